/**
 * Which request is which: the page, its two assets, its event stream, and two fragments per directory.
 * Nothing maps a URL to a file: a directory is named by its position on the command line, never by a path,
 * so no request can reach a file the page does not show. A target that is not plainly one of these paths
 * is refused before it is matched (400: dot segments, empty segments, percent-escapes, backslashes; 404:
 * any other path; 405: any method but GET and HEAD).
 */
import * as E from 'fp-ts/lib/Either.js';
import { decodeSelection, type Selection } from './selection.js';

export type Route =
  | { readonly kind: 'page' }
  | { readonly kind: 'asset'; readonly name: 'app.js' | 'style.css' }
  | { readonly kind: 'events' }
  /** A directory's rows, lines above them and sweep, with their version (JSON). */
  | { readonly kind: 'runs'; readonly dir: number }
  /** A directory's report (tables and figures) for the chosen runs (HTML). */
  | { readonly kind: 'report'; readonly dir: number; readonly selection: Selection };

export interface Refusal {
  readonly status: 400 | 404 | 405;
  readonly message: string;
}

export const ALLOWED_METHODS = 'GET, HEAD';

/** Path characters a route can hold; anything else (`%`, `\`, `:`, ...) is no path of this page. */
const PLAIN = /^\/[A-Za-z0-9._/-]*$/;

const refuse = (status: Refusal['status'], message: string): E.Either<Refusal, never> => E.left({ status, message });

/** The route of `method target`, for a server of `dirCount` directories. */
export const route = (method: string, target: string, dirCount: number): E.Either<Refusal, Route> => {
  if (method !== 'GET' && method !== 'HEAD') return refuse(405, `${method} is not allowed: this server only reads (${ALLOWED_METHODS}).`);
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  if (!PLAIN.test(path)) return refuse(400, 'Not a path of this page (only letters, digits, ".", "_", "-" and "/" are).');
  const segments = path.slice(1).split('/');
  if (segments.some((s, i) => s === '.' || s === '..' || (s === '' && i < segments.length - 1)))
    return refuse(400, 'Not a path of this page (no "." or ".." segments, no empty ones).');
  const noQuery = (r: Route): E.Either<Refusal, Route> => (query === '' ? E.right(r) : refuse(400, `${path} takes no query.`));
  switch (path) {
    case '/':
      return noQuery({ kind: 'page' });
    case '/app.js':
    case '/style.css':
      return noQuery({ kind: 'asset', name: path === '/app.js' ? 'app.js' : 'style.css' });
    case '/events':
      return noQuery({ kind: 'events' });
  }
  const m = /^\/d\/(0|[1-9][0-9]{0,3})\/(runs|report)$/.exec(path);
  const dir = m === null ? -1 : Number(m[1]);
  if (m === null || dir >= dirCount) return refuse(404, `Nothing at ${path}.`);
  if (m[2] === 'runs') return noQuery({ kind: 'runs', dir });
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(query);
  } catch {
    return refuse(400, 'The query is not a query string.');
  }
  const selection = decodeSelection(params);
  return E.isLeft(selection) ? refuse(400, selection.left.message) : E.right({ kind: 'report', dir, selection: selection.right });
};

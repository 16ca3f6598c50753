/**
 * `optbench serve`: a read-only HTTP server (node:http) for the live page of one or more run directories.
 * Each directory is read once when it starts (a directory without a store is the error `optbench runs`
 * gives), then watched (watch.ts); the page follows the changes through server-sent events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { invalidConfig, ioError, printable, toOptbenchError, type OptbenchError } from '../errors.js';
import { connectQueue, type QueueClient } from '../queue/client.js';
import { readDir, type DirSnapshot } from './dir-read.js';
import { idPrefix } from './dir-view.js';
import { SECURITY_HEADERS } from './headers.js';
import { loopbackHosts, send, sendText } from './http.js';
import { startLive, type Live } from './live.js';
import { DEFAULT_HOST, DEFAULT_PORT, decodeServeOptions, isLoopback, type ServeOptions } from './options.js';
import { PAGE_CSS, pageHtml } from './page.js';
import type { DirAnswer, ServerEvents } from './page/messages.js';
import { pageScript } from './page-script.js';
import { watchQueue } from './queue-view.js';
import { reportCache } from './report-cache.js';
import { reportHtml } from './report-view.js';
import { ALLOWED_METHODS, route, type Route } from './routes.js';
import { ALL, selectionKey, type Selection } from './selection.js';
import { sseHub } from './sse.js';

export interface Serving {
  /** `http://127.0.0.1:8600/`. */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** Listening beyond this machine (not loopback): the page is reachable from other machines. */
  readonly exposed: boolean;
  /** How many pages follow the events now. */
  readonly pages: () => number;
  /** Stops watching, ends every page's stream and closes the server. */
  readonly close: () => Promise<void>;
}

/** Reads every directory once, as `optbench runs` would (its error when one is no run directory). */
const readAll = (dirs: readonly string[]): E.Either<OptbenchError, DirSnapshot[]> => {
  const seen = new Map<string, string>();
  const out: DirSnapshot[] = [];
  for (const d of dirs) {
    const abs = resolve(d);
    const before = seen.get(abs);
    if (before !== undefined)
      return E.left(
        invalidConfig({
          path: 'run-dir',
          message: `${before === d ? `${printable(d)} is given twice` : `${printable(before)} and ${printable(d)} are the same directory`}: give each run directory once.`,
        }),
      );
    seen.set(abs, d);
    const snap = readDir(abs);
    if (E.isLeft(snap)) return snap;
    out.push(snap.right);
  }
  return E.right(out);
};

const listen = (server: Server, host: string, port: number): Promise<E.Either<OptbenchError, AddressInfo>> =>
  new Promise((done) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const where = `${host}:${port}`;
      const why =
        e.code === 'EADDRINUSE'
          ? `Port ${port} on ${host} is in use (another optbench serve, or another program): choose another with --port N (--port 0 takes any free one).`
          : e.code === 'EACCES'
            ? `Port ${port} on ${host} needs privileges this user does not have: choose a port above 1023 with --port N.`
            : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN'
              ? `Cannot listen on ${where}: '${printable(host)}' is not an address of this machine. Leave out --host to listen on ${DEFAULT_HOST}.`
              : `Cannot listen on ${where}: ${e.message}.`;
      done(E.left(ioError({ file: where, ...(e.code !== undefined ? { code: e.code } : {}), message: why })));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      done(E.right(server.address() as AddressInfo));
    });
  });

interface Handler {
  readonly live: Live;
  readonly dirs: readonly string[];
  readonly sse: ReturnType<typeof sseHub>;
  readonly report: (dir: number, sel: Selection) => string;
  readonly allowedHosts: () => ReadonlySet<string> | null;
  /** The page's script (page-script.ts). */
  readonly script: string;
}

const hello = (live: Live): ServerEvents['hello'] => ({ dirs: live.dirs().map((v) => v.version), queue: live.queue() });

const answer = (h: Handler, req: IncomingMessage, res: ServerResponse, r: Route): void => {
  switch (r.kind) {
    case 'page': {
      const views = h.live.dirs();
      return send(req, res, 200, 'text/html; charset=utf-8', pageHtml({ dirs: h.dirs.map((d) => resolve(d)), views, reports: views.map((_, i) => h.report(i, ALL)), queue: h.live.queue() }));
    }
    case 'asset':
      return r.name === 'app.js'
        ? send(req, res, 200, 'text/javascript; charset=utf-8', h.script)
        : send(req, res, 200, 'text/css; charset=utf-8', PAGE_CSS);
    case 'events':
      if (req.method === 'HEAD') return send(req, res, 200, 'text/event-stream; charset=utf-8', '');
      if (!h.sse.add(res, hello(h.live))) sendText(req, res, 503, 'Too many pages are open on this server: close some.', { 'Retry-After': '10' });
      return;
    case 'runs': {
      const v = h.live.dirs()[r.dir]!;
      const all: DirAnswer = { version: v.version, rows: [...v.rows.values()].join('\n'), head: v.head, sweep: v.sweep };
      return send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(all));
    }
    case 'report':
      return send(req, res, 200, 'text/html; charset=utf-8', h.report(r.dir, r.selection));
  }
};

const handle = (h: Handler) => (req: IncomingMessage, res: ServerResponse): void => {
  try {
    const hosts = h.allowedHosts();
    if (hosts !== null && !hosts.has(req.headers.host ?? ''))
      return sendText(req, res, 403, 'This server answers pages of this machine only (Host 127.0.0.1, localhost or [::1] with its port).');
    const r = route(req.method ?? '', req.url ?? '', h.dirs.length);
    if (E.isLeft(r)) return sendText(req, res, r.left.status, r.left.message, r.left.status === 405 ? { Allow: ALLOWED_METHODS } : {});
    answer(h, req, res, r.right);
  } catch (u) {
    const e = toOptbenchError(u);
    process.stderr.write(`optbench serve: ${printable(req.url ?? '')}: ${printable(e.message)}\n`);
    if (!res.headersSent) sendText(req, res, 500, 'The server could not answer this request; it says why on its stderr.');
    else res.destroy();
  }
};

/** A bound on the drawn reports kept for the pages (bytes of HTML). */
const REPORT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * Starts serving: the options are decoded, every directory read (its error if one cannot be), the queue
 * connected (with --queue), and the server listening, before the Right is returned.
 */
export const serve = (input: ServeOptions): TE.TaskEither<OptbenchError, Serving> => async () => {
  const decoded = decodeServeOptions(input);
  if (E.isLeft(decoded)) return decoded;
  const o = decoded.right;
  const snapshots = readAll(o.dirs);
  if (E.isLeft(snapshots)) return snapshots;
  const script = await pageScript();
  if (E.isLeft(script)) return script;
  let client: QueueClient | undefined;
  if (o.queue !== undefined) {
    const c = await connectQueue(o.queue, { persistent: true });
    if (E.isLeft(c)) return c;
    client = c.right;
  }
  const live = startLive({
    dirs: snapshots.right.map((s) => s.dir),
    initial: snapshots.right,
    watch: { intervalMs: o.intervalMs ?? 300, refreshMs: o.refreshMs ?? 5000 },
    ...(client !== undefined ? { queue: watchQueue(client, o.queueEveryMs ?? 1000) } : {}),
  });
  const sse = sseHub({ maxClients: 64, maxBufferedBytes: 8 * 1024 * 1024, keepAliveMs: 15_000 }, SECURITY_HEADERS);
  const cache = reportCache(REPORT_CACHE_BYTES);
  const drawnFor: string[] = [];
  const report = (dir: number, sel: Selection): string => {
    const v = live.dirs()[dir]!;
    if (v.snapshot === null) return '<p class="notes">Not read yet.</p>';
    // Drawings of runs as they were are never asked for again: only the current ones are kept.
    if (drawnFor[dir] !== v.reportKey) cache.drop(`${dir}|`);
    drawnFor[dir] = v.reportKey;
    const snap = v.snapshot;
    return cache.get(`${dir}|${v.reportKey}|${selectionKey(sel)}`, () => reportHtml(snap, sel, idPrefix(dir)));
  };
  const events = live.events.subscribe((e) => {
    sse.send(e.type, e);
    if (e.type === 'dir' && e.report && sse.size() > 0) report(e.dir, ALL);
  });
  const host = o.host ?? DEFAULT_HOST;
  let port = o.port ?? DEFAULT_PORT;
  // Request lines carry the chosen runs' ids: room for a few thousand.
  const server = createServer({ maxHeaderSize: 128 * 1024 }, handle({ live, dirs: o.dirs, sse, report, allowedHosts: () => (isLoopback(host) ? loopbackHosts(port) : null), script: script.right }));
  const stop = async (): Promise<void> => {
    events.unsubscribe();
    live.close();
    sse.close();
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
    await client?.close();
  };
  const bound = await listen(server, host, port);
  if (E.isLeft(bound)) {
    events.unsubscribe();
    live.close();
    sse.close();
    await client?.close();
    return bound;
  }
  port = bound.right.port;
  // Every page asks for its report after a change, most of them for every run: that one is drawn at once,
  // before their requests arrive, and, for the first page, before the server says where it is (but after
  // it knows it can listen: a port in use is said at once, however big the directories).
  live.dirs().forEach((_, i) => report(i, ALL));
  const shown = host.includes(':') ? `[${host}]` : host;
  return E.right({
    url: `http://${shown}:${port}/`,
    host,
    port,
    exposed: !isLoopback(host),
    pages: sse.size,
    close: stop,
  });
};

/** `<run-dir>/grid.json` as the live page reads it: decoded with io-ts, never trusted as it stands. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { decodeWith, RunSpec } from '../config/spec.js';
import { ioError, printable, type OptbenchError } from '../errors.js';
import { GRID_FILE } from '../store/run-dir.js';
import type { GridRecord } from '../train/record.js';

// Not strict: a grid.json written by a later optbench may carry more fields, which the page does not need.
const GridFile = t.intersection([
  t.type({ specs: t.readonlyArray(RunSpec) }),
  t.partial({ task: t.string, title: t.string, createdAt: t.string, classNames: t.readonlyArray(t.string) }),
]);

/**
 * The grid record of `dir`: null when it has no grid.json (a sweep's directory, or one written by the
 * library without recordRuns); a Left, for the page to show as a warning, when the file is not a grid record.
 */
export const readGridFile = (dir: string): E.Either<OptbenchError, GridRecord | null> => {
  const file = join(dir, GRID_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (u) {
    const code = (u as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? E.right(null) : E.left(ioError({ file, ...(code !== undefined ? { code } : {}), message: `${printable(file)} cannot be read (${code ?? String(u)}).` }));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return E.left(ioError({ file, message: `${printable(file)} is not JSON: the page shows the store's runs without the planned ones.` }));
  }
  const decoded = decodeWith(GridFile, GRID_FILE)(json);
  if (E.isLeft(decoded)) return decoded;
  const g = decoded.right;
  return E.right({ task: g.task ?? '', title: g.title ?? '', createdAt: g.createdAt ?? '', classNames: g.classNames ?? [], specs: g.specs });
};

import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { readJsonFile } from '../config/json-file.js';
import { countsAsResult, describeProtocol, gridHoldout, protocolDifference, protocolKey, protocolOf, type Protocol } from '../config/protocol.js';
import type { RunSpec } from '../config/spec.js';
import { GridRecordFile } from '../train/record.js';
import { invalidConfig, printable, type OptbenchError } from '../errors.js';
import { STORE_FILE, type Store } from './store.js';

/**
 * What marks an optbench run directory: its store, `optbench.sqlite` (every command that trains creates
 * it before writing anything else), or, for a directory written before the store existed, a `grid.json`
 * that holds a list of run specs. optbench writes into a directory only when it is new, empty, or a run
 * directory; any other directory holds files optbench did not write and is refused unless --force.
 */
export const GRID_FILE = 'grid.json';

const isFile = (path: string): boolean => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** The run specs of `<dir>/grid.json`, or undefined when it has none (no file, or not a grid record). */
export const gridSpecs = (dir: string): readonly RunSpec[] | undefined => {
  const file = join(dir, GRID_FILE);
  if (!isFile(file)) return undefined;
  return pipe(
    readJsonFile(file, GridRecordFile, { what: 'grid record', remedy: '' }),
    E.match(
      () => undefined,
      (g) => g.specs,
    ),
  );
};

export const isRunDir = (dir: string): boolean => isFile(join(dir, STORE_FILE)) || gridSpecs(dir) !== undefined;

/**
 * The files SQLite makes beside a store while another optbench process is creating it (its journal, its
 * WAL and shared memory appear around the store file itself): a directory holding nothing else is one
 * optbench is setting up this instant, not a directory of someone else's files.
 */
const STORE_SIDE_FILES: ReadonlySet<string> = new Set([STORE_FILE, `${STORE_FILE}-journal`, `${STORE_FILE}-wal`, `${STORE_FILE}-shm`]);

/** What state a directory named as an output is in. */
export type OutDirState = 'absent' | 'empty' | 'run' | 'foreign' | 'file';

export const outDirState = (dir: string): OutDirState => {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) return 'file';
    names = readdirSync(dir);
  } catch (e) {
    // A directory that cannot be listed is left to the writability check, which names the cause.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'empty';
  }
  if (names.length === 0) return 'empty';
  return isRunDir(dir) || names.every((n) => STORE_SIDE_FILES.has(n)) ? 'run' : 'foreign';
};

/**
 * The protocols of the runs a directory already holds (store and grid.json; a sweep's held-out trials
 * aside: runs that hold out other images than the grid's own), with their run counts.
 */
export const dirProtocols = (dir: string, store?: Store): Map<string, { protocol: Protocol; runs: number }> => {
  const planned = gridSpecs(dir) ?? [];
  const counted = countsAsResult(gridHoldout(planned));
  const specs: RunSpec[] = [...planned];
  if (store !== undefined) {
    const rows = store.listRuns();
    if (E.isRight(rows)) specs.push(...rows.right.map((r) => r.spec));
  }
  const out = new Map<string, { protocol: Protocol; runs: number; ids: Set<string> }>();
  for (const s of specs) {
    if (!counted(s)) continue;
    const p = protocolOf(s);
    const k = protocolKey(p);
    const entry = out.get(k) ?? { protocol: p, runs: 0, ids: new Set<string>() };
    const id = JSON.stringify([s.model, s.optimizer, s.seed]);
    if (!entry.ids.has(id)) {
      entry.ids.add(id);
      entry.runs++;
    }
    out.set(k, entry);
  }
  return new Map([...out].map(([k, v]) => [k, { protocol: v.protocol, runs: v.runs }]));
};

/**
 * Refuses to add runs of another protocol to a run directory (InvalidConfig naming the difference), so
 * that a directory, and the report drawn from it, never mixes runs that are not comparable.
 */
export const checkProtocol = (dir: string, specs: readonly RunSpec[], store?: Store): E.Either<OptbenchError, void> => {
  const existing = dirProtocols(dir, store);
  for (const s of specs) {
    const p = protocolOf(s);
    const other = [...existing.values()].find((e) => protocolKey(e.protocol) !== protocolKey(p));
    if (other === undefined) continue;
    return E.left(
      invalidConfig({
        path: 'out',
        message:
          `${printable(dir)} holds ${other.runs} run${other.runs === 1 ? '' : 's'} of another protocol: this command has ` +
          `${protocolDifference(p, other.protocol)}. A run directory holds one protocol, so that its report compares like ` +
          `with like: give this command its own --out DIR, or use the directory's protocol (${describeProtocol(other.protocol)}).`,
      }),
    );
  }
  return E.right(undefined);
};

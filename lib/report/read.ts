import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { decodeRunSpec } from '../config/spec.js';
import { ioError, type OptbenchError } from '../errors.js';
import { openStore, STORE_FILE } from '../store/store.js';
import { isOneOf } from '../one-of.js';
import { RUN_STATUSES, type EpochRecord, type GridRecord, type RunRecord } from '../train/record.js';
import type { ReportSource } from './types.js';

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);
const isNum = (u: unknown): u is number => typeof u === 'number';

// JSON has no NaN: a diverged epoch's loss arrives as null and is read back as NaN (the curve stops there).
const isMetrics = (u: unknown): boolean =>
  isObject(u) && (isNum(u['loss']) || u['loss'] === null) && (u['accuracy'] === null || isNum(u['accuracy']));

const isEpoch = (u: unknown): u is EpochRecord =>
  isObject(u) &&
  isNum(u['epoch']) &&
  isMetrics(u['train']) &&
  (u['test'] === null || isMetrics(u['test'])) &&
  isNum(u['trainMs']) &&
  isNum(u['evalMs']);

const isMatrix = (u: unknown): boolean => Array.isArray(u) && u.every((r) => Array.isArray(r) && r.every(isNum));

const isVae = (u: unknown): boolean =>
  isObject(u) &&
  isNum(u['rows']) &&
  isNum(u['cols']) &&
  Array.isArray(u['steps']) &&
  Array.isArray(u['traversal']) &&
  u['traversal'].every((s) => typeof s === 'string') &&
  typeof u['samples'] === 'string';

/** Why `u` is not a RunRecord, or null when it is one. */
const runRecordProblem = (u: unknown): string | null => {
  if (!isObject(u)) return 'not a JSON object';
  const spec = decodeRunSpec(u['spec']);
  if (E.isLeft(spec)) return spec.left.message;
  if (typeof u['runId'] !== 'string') return 'runId missing';
  if (!isOneOf(RUN_STATUSES)(u['status'])) return `status must be one of ${RUN_STATUSES.join(', ')}`;
  if (!Array.isArray(u['epochs']) || !u['epochs'].every(isEpoch)) return 'epochs must be a list of epoch records';
  if (u['confusion'] != null && !isMatrix(u['confusion'])) return 'confusion must be a matrix of counts';
  if (u['vae'] != null && !isVae(u['vae'])) return 'vae must hold decoded grids';
  const f = u['final'];
  if (f != null && !(isObject(f) && isNum(f['testLoss']))) return 'final must hold testLoss';
  return null;
};

/** Fills fields a record written by an older or partial writer may lack, so the report sees one shape. */
const nanLoss = (m: { loss: number | null; accuracy: number | null }) => ({ ...m, loss: m.loss ?? Number.NaN });

const normalise = (u: Record<string, unknown>): RunRecord =>
  ({
    backend: '',
    parameters: 0,
    startedAt: '',
    updatedAt: '',
    final: null,
    confusion: null,
    vae: null,
    error: null,
    ...u,
    epochs: (u['epochs'] as EpochRecord[]).map((e) => ({ ...e, train: nanLoss(e.train), test: e.test === null ? null : nanLoss(e.test) })),
  }) as unknown as RunRecord;

const gridProblem = (u: unknown): string | null => {
  if (!isObject(u)) return 'not a JSON object';
  if (!Array.isArray(u['specs'])) return 'specs must be a list of run specs';
  const bad = u['specs'].map((s, i) => decodeRunSpec(s, `specs[${i}]`)).find(E.isLeft);
  if (bad !== undefined) return bad.left.message;
  if (u['classNames'] !== undefined && !(Array.isArray(u['classNames']) && u['classNames'].every((c) => typeof c === 'string')))
    return 'classNames must be a list of strings';
  return null;
};

type Parsed = { ok: true; value: unknown } | { ok: false; why: string };

const readJson = (file: string): Parsed => {
  try {
    return { ok: true, value: JSON.parse(readFileSync(file, 'utf8')) as unknown };
  } catch (e) {
    return { ok: false, why: e instanceof SyntaxError ? 'incomplete or invalid JSON (still being written?)' : String(e) };
  }
};

type StoreRuns =
  | { readonly kind: 'runs'; readonly runs: readonly RunRecord[] }
  | { readonly kind: 'none' }
  | { readonly kind: 'unreadable'; readonly why: string };

/**
 * The runs of the store in `dir`, which is the record of truth (every event is committed there first);
 * runs/*.json are its copies for other tools. A store that can't be read falls back to those copies.
 */
const readStoreRuns = (dir: string): StoreRuns => {
  const file = join(dir, STORE_FILE);
  try {
    if (!statSync(file).isFile()) return { kind: 'none' };
  } catch {
    return { kind: 'none' };
  }
  const opened = openStore(file, { readonly: true });
  if (E.isLeft(opened)) return { kind: 'unreadable', why: `Read runs/*.json instead of the store: ${opened.left.message}` };
  try {
    const records = opened.right.toRunRecords();
    if (E.isLeft(records)) return { kind: 'unreadable', why: `Read runs/*.json instead of the store: ${records.left.message}` };
    // A store with no run yet (a grid that has just started) says nothing the JSON files would not.
    return records.right.length === 0 ? { kind: 'none' } : { kind: 'runs', runs: records.right };
  } finally {
    opened.right.close();
  }
};

/**
 * Reads a run directory (the store when it has one, else grid.json + runs/*.json), also while it is still being written: a run with
 * status 'running' is kept with the epochs it has, and a file that does not parse is skipped with a
 * warning rather than failing the whole report.
 */
export const readRunDir = (dir: string): E.Either<OptbenchError, ReportSource> => {
  try {
    if (!statSync(dir).isDirectory())
      return E.left(ioError({ file: dir, code: 'ENOTDIR', message: `${dir} is not a directory: give the run directory (the --out of a task or run).` }));
  } catch {
    return E.left(ioError({ file: dir, code: 'ENOENT', message: `${dir} does not exist: give the run directory (the --out of a task or run).` }));
  }
  const warnings: string[] = [];
  let grid: GridRecord | null = null;
  const gridFile = join(dir, 'grid.json');
  let hasGrid = false;
  try {
    hasGrid = statSync(gridFile).isFile();
  } catch {
    hasGrid = false;
  }
  if (hasGrid) {
    const g = readJson(gridFile);
    const why = g.ok ? gridProblem(g.value) : g.why;
    if (why === null && g.ok) grid = { task: '', title: '', createdAt: '', classNames: [], ...(g.value as object) } as unknown as GridRecord;
    else warnings.push(`Skipped grid.json: ${why}.`);
  }
  const fromStore = readStoreRuns(dir);
  if (fromStore.kind === 'runs') return E.right({ grid, runs: fromStore.runs, warnings });
  if (fromStore.kind === 'unreadable') warnings.push(fromStore.why);
  const runsDir = join(dir, 'runs');
  let names: string[] = [];
  try {
    names = readdirSync(runsDir)
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    if (!hasGrid)
      return E.left(
        ioError({
          file: dir,
          code: 'ENOENT',
          message: `${dir} has neither grid.json nor runs/: it is not a run directory. Give the --out directory of a task or run.`,
        }),
      );
  }
  const runs: RunRecord[] = [];
  for (const name of names) {
    const r = readJson(join(runsDir, name));
    const why = r.ok ? runRecordProblem(r.value) : r.why;
    if (why === null && r.ok) runs.push(normalise(r.value as Record<string, unknown>));
    else warnings.push(`Skipped runs/${name}: ${why}.`);
  }
  return E.right({ grid, runs, warnings });
};

/** One read of a run directory, as the live page shows it: the store's runs, the planned ones, the sweep. */
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { runId, type RunSpec } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';
import type { ExportedRun } from '../store/export.js';
import { openStore, STORE_FILE } from '../store/store.js';
import { readSweepRecord, type SweepRecord } from '../sweep/record.js';
import type { GridRecord } from '../train/record.js';
import { readGridFile } from './grid-file.js';
import { dirSignature } from './signature.js';

/** A run grid.json plans that the store has not heard of yet. */
export interface PlannedRun {
  readonly runId: string;
  readonly spec: RunSpec;
}

export interface DirSnapshot {
  /** The directory, absolute. */
  readonly dir: string;
  /** What its files looked like just before this read (dirSignature): a watcher goes on from there. */
  readonly signature: string;
  readonly grid: GridRecord | null;
  /** Every run of the store: its row (status as it stands now, owner) and its record (epochs, results). */
  readonly runs: readonly ExportedRun[];
  readonly planned: readonly PlannedRun[];
  readonly sweep: SweepRecord | null;
  /** What could not be read besides the store (grid.json, sweep.json), one sentence each. */
  readonly warnings: readonly string[];
}

/**
 * Reads `dir` once. The store is opened as `optbench runs` opens it (read-only: nothing is written to it or
 * beside it) and closed before this returns, so no connection outlives a read; its absence or damage is the
 * error `optbench runs` gives. grid.json and sweep.json that cannot be read are warnings, not failures.
 */
export const readDir = (dir: string): E.Either<OptbenchError, DirSnapshot> => {
  const abs = resolve(dir);
  const signature = dirSignature(abs);
  const opened = openStore(join(abs, STORE_FILE), { readonly: true });
  if (E.isLeft(opened)) return opened;
  let runs: E.Either<OptbenchError, readonly ExportedRun[]>;
  try {
    runs = opened.right.runsWithRecords();
  } finally {
    opened.right.close();
  }
  if (E.isLeft(runs)) return runs;
  const warnings: string[] = [];
  const grid = readGridFile(abs);
  if (E.isLeft(grid)) warnings.push(grid.left.message);
  const sweep = readSweepRecord(abs);
  if (E.isLeft(sweep)) warnings.push(sweep.left.message);
  const known = new Set(runs.right.map((r) => r.row.runId));
  const planned: PlannedRun[] = [];
  for (const spec of E.isRight(grid) ? (grid.right?.specs ?? []) : []) {
    const id = runId(spec);
    if (!known.has(id)) {
      known.add(id);
      planned.push({ runId: id, spec });
    }
  }
  return E.right({
    dir: abs,
    signature,
    grid: E.isRight(grid) ? grid.right : null,
    runs: runs.right,
    planned,
    sweep: E.isRight(sweep) ? sweep.right : null,
    warnings,
  });
};

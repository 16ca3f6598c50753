/** Reading runs back: listings, epochs, run records and exports, each from one consistent snapshot. */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import type { EpochRecord, RunRecord } from '../train/record.js';
import type { R, StoreContext } from './context.js';
import { exportCsv, exportJson, type ExportedRun, type ExportFormat } from './export.js';
import { holds } from './owner.js';
import { ArtifactDbRow, EpochDbRow, RunDbRow, artifactRow, contiguous, decodeRow, holder, runRow, toRecord } from './rows.js';
import { TargetDbRow, epochWithHeldOut, targetHit } from './target-rows.js';
import type { ArtifactRow, RunRow } from './types.js';

interface Reads {
  listRuns(): R<readonly RunRow[]>;
  runEpochs(runId: string): R<readonly EpochRecord[]>;
  completedEpochs(runId: string): R<number>;
  toRunRecords(): R<readonly RunRecord[]>;
  runsWithRecords(): R<readonly ExportedRun[]>;
  exportRuns(format: ExportFormat, runIds?: readonly string[]): R<string>;
  artifacts(runId?: string): R<readonly ArtifactRow[]>;
}

const byRun = (epochs: readonly EpochDbRow[]): Map<string, EpochDbRow[]> => {
  const m = new Map<string, EpochDbRow[]>();
  for (const e of epochs) {
    const list = m.get(e.run_id) ?? [];
    list.push(e);
    m.set(e.run_id, list);
  }
  return m;
};

export const reads = (ctx: StoreContext): Reads => {
  const { db, file, q, owner, now, leaseMs, attempt } = ctx;

  const runRows = E.traverseArray(decodeRow(RunDbRow, file, 'runs'));
  const epochRows = E.traverseArray(decodeRow(EpochDbRow, file, 'epochs'));
  const artifactRows = E.traverseArray(decodeRow(ArtifactDbRow, file, 'artifacts'));
  const targetRows = E.traverseArray(decodeRow(TargetDbRow, file, 'targets'));
  const epochNumberRows = E.traverseArray(decodeRow(t.type({ epoch: t.number }), file, 'epochs'));

  /** Every run and epoch, read in one transaction and decoded. */
  const snapshot = () =>
    pipe(
      db.transaction(() => ({ runs: q.runs.all(), epochs: q.allEpochs.all(), targets: q.allTargets.all() }))(),
      ({ runs, epochs, targets }) =>
        pipe(E.Do, E.apS('runs', runRows(runs)), E.apS('epochs', epochRows(epochs)), E.apS('targets', targetRows(targets))),
    );

  /** The run as it stands at time `t`: a `running` run nobody holds any more lists as interrupted. */
  const rowAt = (r: RunDbRow, epochs: readonly EpochDbRow[], t: number): RunRow => {
    const h = holder(r);
    const live = h.token !== null && holds(h, owner, t, leaseMs);
    return runRow(r, epochs.map((e) => e.epoch), live);
  };

  const listRuns = (): R<readonly RunRow[]> =>
    attempt('listing runs', () =>
      pipe(
        snapshot(),
        E.map((s) => {
          const eps = byRun(s.epochs);
          const t = now();
          return s.runs.map((r) => rowAt(r, eps.get(r.id) ?? [], t));
        }),
      ),
    );

  const records = (runIds?: readonly string[]) =>
    pipe(
      snapshot(),
      E.map((s) => {
        const eps = byRun(s.epochs);
        const t = now();
        const wanted = runIds === undefined ? undefined : new Set(runIds);
        const hits = new Map(s.targets.map((x) => [x.run_id, targetHit(x)]));
        return s.runs
          .filter((r) => wanted === undefined || wanted.has(r.id))
          .map((r) => {
            const list = eps.get(r.id) ?? [];
            const row = rowAt(r, list, t);
            const hit = hits.get(r.id);
            // Each epoch with its held-out metrics, and the run's target hit (schema v3).
            const record = { ...toRecord(r, row, list), epochs: list.map(epochWithHeldOut), ...(hit !== undefined ? { reached: hit } : {}) };
            return { row, record };
          });
      }),
    );

  return {
    listRuns,
    runEpochs: (runId) =>
      attempt(`reading the epochs of run ${runId}`, () => pipe(epochRows(q.epochsOf.all(runId)), E.map((rows) => rows.map(epochWithHeldOut)))),
    completedEpochs: (runId) =>
      attempt(`reading the epochs of run ${runId}`, () =>
        pipe(
          epochNumberRows(q.epochNumbers.all(runId)),
          E.map((rows) => contiguous(rows.map((r) => r.epoch))),
        ),
      ),
    toRunRecords: () => attempt('reading runs', () => pipe(records(), E.map((rs) => rs.map((x) => x.record)))),
    runsWithRecords: () => attempt('reading runs', () => records()),
    exportRuns: (format, runIds) =>
      attempt('exporting runs', () => pipe(records(runIds), E.map((rs) => (format === 'csv' ? exportCsv(rs) : exportJson(rs))))),
    artifacts: (runId) =>
      attempt('listing artifacts', () =>
        pipe(artifactRows(runId === undefined ? q.artifacts.all() : q.artifactsOf.all(runId)), E.map((rows) => rows.map(artifactRow))),
      ),
  };
};

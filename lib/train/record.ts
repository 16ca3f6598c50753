import * as t from 'io-ts';
import { JsonNumber, nullable, wrapping } from '../config/codecs.js';
import { NonNegativeInt, PositiveInt, RunSpec } from '../config/spec.js';
import { OptbenchErrorCodec } from '../errors-codec.js';
import { interrupted, type OptbenchError } from '../errors.js';
import { Confusion, FinalMetrics, RunId, VaeGrids, type RunEvent } from './events.js';
import { TargetHit, Targets, hitOf, type TargetReached } from './target.js';

/**
 * The files of a run directory (`--out`):
 *   grid.json                 GridRecord: what was asked for (every planned spec), class names
 *   runs/<model>-<optimizer>-s<seed>-<runId>.json   RunRecord, rewritten after every epoch
 *   results.md                the study's table layout
 * A report reads only these files (and the store, where present): it never retrains. Each record is a
 * codec and its type is the codec's; reading a file back decodes it (`RunRecordFile`, `GridRecordFile`).
 */

/** Loss and accuracy as a record holds them: a diverged (NaN) loss is null in the file and NaN in memory. */
const RecordMetrics = t.readonly(t.type({ loss: JsonNumber, accuracy: nullable(t.number) }));

export const EpochRecord = t.readonly(
  t.intersection([
    t.type({
      epoch: PositiveInt,
      train: RecordMetrics,
      /** Null when the epoch was not evaluated (a pipeline without `evaluate`). */
      test: nullable(RecordMetrics),
      trainMs: t.number,
      evalMs: t.number,
    }),
    t.partial({
      /** The held-out images' metrics measured beside the test set (evaluate's `heldOut`); absent otherwise. */
      validation: nullable(RecordMetrics),
    }),
  ]),
  'an epoch record',
);
export type EpochRecord = t.TypeOf<typeof EpochRecord>;

export const RUN_STATUSES = ['running', 'done', 'failed', 'interrupted'] as const;
export const RunStatus = t.keyof({ running: null, done: null, failed: null, interrupted: null }, `one of ${RUN_STATUSES.join(', ')}`);
export type RunStatus = t.TypeOf<typeof RunStatus>;

/** What every run record has. */
const runRecordCore = {
  runId: RunId,
  spec: RunSpec,
  status: RunStatus,
  epochs: t.readonlyArray(EpochRecord),
};

/** What a record's writer fills in as the run goes (a record from an older or partial writer may lack them). */
const runRecordLater = {
  backend: t.string,
  parameters: NonNegativeInt,
  startedAt: t.string,
  updatedAt: t.string,
  final: nullable(FinalMetrics),
  /** Rows: predicted class, columns: true class. */
  confusion: nullable(Confusion),
  vae: nullable(VaeGrids),
  error: nullable(OptbenchErrorCodec),
};

/** What only some records have: when the run first reached its target (`reachTarget`); absent or null while it has not. */
const runRecordOptional = {
  reached: nullable(TargetHit),
};

export const RunRecord = t.readonly(t.intersection([t.type({ ...runRecordCore, ...runRecordLater }), t.partial(runRecordOptional)]), 'a run record');
export type RunRecord = t.TypeOf<typeof RunRecord>;

const gridRecordProps = {
  /** `task 1`, `quick`, `run`, ... */
  task: t.string,
  title: t.string,
  /** When the grid was first started in its directory (a resumed grid keeps it). */
  createdAt: t.string,
  classNames: t.readonlyArray(t.string),
  specs: t.readonlyArray(RunSpec),
};
const gridRecordOptional = {
  /** The targets its runs were judged against (by model), when the grid had any (`--target`). */
  targets: Targets,
};

export const GridRecord = t.readonly(t.intersection([t.type(gridRecordProps), t.partial(gridRecordOptional)]), 'a grid record');
export type GridRecord = t.TypeOf<typeof GridRecord>;

/**
 * `loose` decoded, then `defaults` filled in for the fields it lacks: what a file written by an older or
 * partial writer reads as, so that everything downstream sees one shape.
 */
const withDefaults = <A, L>(name: string, loose: t.Type<L, unknown, unknown>, defaults: (l: L) => A, full: t.Encoder<A, unknown> & { is: t.Is<A> }) =>
  wrapping(
    new t.Type<A, unknown, unknown>(name, full.is, (u, c) => {
      const l = loose.validate(u, c);
      return l._tag === 'Left' ? l : t.success(defaults(l.right));
    }, full.encode),
    loose,
  );

/** A run record as read from runs/*.json. */
export const RunRecordFile = withDefaults(
  'a run record',
  t.intersection([t.type(runRecordCore), t.partial({ ...runRecordLater, ...runRecordOptional })]),
  (r): RunRecord => ({ backend: '', parameters: 0, startedAt: '', updatedAt: '', final: null, confusion: null, vae: null, error: null, ...r }),
  RunRecord,
);

/** grid.json as read back: only its specs are needed; the rest reads as empty when absent. */
export const GridRecordFile = withDefaults(
  'a grid record',
  t.intersection([t.type({ specs: gridRecordProps.specs }), t.partial({ ...gridRecordProps, ...gridRecordOptional })]),
  (g): GridRecord => ({ task: '', title: '', createdAt: '', classNames: [], ...g }),
  GridRecord,
);

/** What a paused run's record and store row say (it is resumable, like an interrupted one). */
export const pausedError = (e: { readonly epochsDone: number; readonly spec: RunSpec }): OptbenchError =>
  interrupted(`Paused after epoch ${e.epochsDone} of ${e.spec.epochs}: the run continues from its checkpoint when it is trained again.`);

const stub = (runId: string, spec: RunSpec, now: string): RunRecord => ({
  runId,
  spec,
  status: 'running',
  backend: '',
  parameters: 0,
  startedAt: now,
  updatedAt: now,
  epochs: [],
  final: null,
  confusion: null,
  vae: null,
  error: null,
});

/**
 * A run's record after one more of its events (`prev`: before it; undefined before RunStarted). `earlier`
 * is what an earlier attempt recorded, kept for the epochs a resumed run does not train again. Pure: the
 * run directory writer (`recordRuns`) and the in-stream report (`renderD3`) both fold events with it.
 */
export const foldRunRecord = (prev: RunRecord | undefined, e: RunEvent, now: string, earlier?: RunRecord): RunRecord | undefined => {
  switch (e.type) {
    case 'RunStarted':
      return {
        ...stub(e.runId, e.spec, now),
        backend: e.backend,
        parameters: e.parameters,
        startedAt: earlier?.startedAt ?? e.startedAt,
        epochs: e.fromEpoch > 0 ? (earlier?.epochs ?? []).filter((x) => x.epoch <= e.fromEpoch) : [],
        ...(e.fromEpoch > 0 && earlier?.reached != null && earlier.reached.epoch <= e.fromEpoch ? { reached: earlier.reached } : {}),
      };
    case 'EpochEnded': {
      if (!prev) return undefined;
      const { epoch, train, test, trainMs, evalMs } = e;
      const kept = prev.epochs.filter((x) => x.epoch < epoch);
      const epochRecord: EpochRecord = { epoch, train, test, ...(e.validation !== undefined ? { validation: e.validation } : {}), trainMs, evalMs };
      return { ...prev, updatedAt: now, epochs: [...kept, epochRecord] };
    }
    case 'RunEnded':
      return prev ? { ...prev, status: 'done', updatedAt: now, final: e.final, confusion: e.confusion, vae: e.vae } : undefined;
    case 'RunPaused':
      return { ...(prev ?? stub(e.runId, e.spec, now)), status: 'interrupted', updatedAt: now, error: pausedError(e) };
    case 'RunFailed':
      return {
        ...(prev ?? stub(e.runId, e.spec, now)),
        status: e.error._tag === 'Interrupted' ? 'interrupted' : 'failed',
        updatedAt: now,
        epochs: (prev?.epochs ?? []).filter((x) => x.epoch <= e.epochsDone),
        error: e.error,
        ...(prev?.reached != null && prev.reached.epoch > e.epochsDone ? { reached: null } : {}),
      };
    case 'BatchEnded':
      return prev;
  }
};

/** A run's record once it has reached its target (`prev`: before; undefined before its RunStarted). */
export const foldTargetReached = (prev: RunRecord | undefined, e: TargetReached, now: string): RunRecord | undefined =>
  prev === undefined ? undefined : { ...prev, updatedAt: now, reached: hitOf(e) };

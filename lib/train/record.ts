import * as t from 'io-ts';
import { JsonNumber, nullable, wrapping } from '../config/codecs.js';
import { NonNegativeInt, PositiveInt, RunSpec } from '../config/spec.js';
import { OptbenchErrorCodec } from '../errors-codec.js';
import { interrupted, type OptbenchError } from '../errors.js';
import { Confusion, FinalMetrics, RunId, VaeGrids, type RunEvent } from './events.js';

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
  t.type({
    epoch: PositiveInt,
    train: RecordMetrics,
    /** Null when the epoch was not evaluated (a pipeline without `evaluate`). */
    test: nullable(RecordMetrics),
    trainMs: t.number,
    evalMs: t.number,
  }),
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

export const RunRecord = t.readonly(t.type({ ...runRecordCore, ...runRecordLater }), 'a run record');
export type RunRecord = t.TypeOf<typeof RunRecord>;

export const GridRecord = t.readonly(
  t.type({
    /** `task 1`, `quick`, `run`, ... */
    task: t.string,
    title: t.string,
    /** When the grid was first started in its directory (a resumed grid keeps it). */
    createdAt: t.string,
    classNames: t.readonlyArray(t.string),
    specs: t.readonlyArray(RunSpec),
  }),
  'a grid record',
);
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
  t.intersection([t.type(runRecordCore), t.partial(runRecordLater)]),
  (r): RunRecord => ({ backend: '', parameters: 0, startedAt: '', updatedAt: '', final: null, confusion: null, vae: null, error: null, ...r }),
  RunRecord,
);

/** grid.json as read back: only its specs are needed; the rest reads as empty when absent. */
export const GridRecordFile = withDefaults(
  'a grid record',
  t.intersection([t.type({ specs: GridRecord.type.props.specs }), t.partial(GridRecord.type.props)]),
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
      };
    case 'EpochEnded': {
      if (!prev) return undefined;
      const { epoch, train, test, trainMs, evalMs } = e;
      return { ...prev, updatedAt: now, epochs: [...prev.epochs.filter((x) => x.epoch < epoch), { epoch, train, test, trainMs, evalMs }] };
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
      };
    case 'BatchEnded':
      return prev;
  }
};

/**
 * A job on the queue is data, never code: a RunSpec, the data set it must be trained on (name and the
 * MD5 of each file's contents), and the options that decide what the worker computes. Workers decode it
 * with io-ts and refuse anything else, so a hostile job can name no path and run nothing.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { Schedule } from '../config/schedule.js';
import { reportErrors, runId, type RunSpec } from '../config/spec.js';
import type { InvalidConfig } from '../errors.js';
import { invalidConfig } from '../errors.js';
import { EvaluateOptions } from '../train/evaluate.js';

/** A name that can only ever be looked up (a registry key, a data set's directory name), never a path. */
const SafeName = new t.Type<string, string, unknown>(
  'a name of letters, digits, ".", "_" or "-" (at most 64, not starting with "." or "-")',
  (u): u is string => typeof u === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(u) && !u.includes('..'),
  (u, c) => (typeof u === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(u) && !u.includes('..') ? t.success(u) : t.failure(u, c)),
  (s) => s,
);

const intIn = (name: string, min: number, max: number): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max,
    (u, c) => (typeof u === 'number' && Number.isInteger(u) && u >= min && u <= max ? t.success(u) : t.failure(u, c)),
    (n) => n,
  );

const Md5 = new t.Type<string, string, unknown>(
  'an MD5 (32 hex digits)',
  (u): u is string => typeof u === 'string' && /^[0-9a-f]{32}$/.test(u),
  (u, c) => (typeof u === 'string' && /^[0-9a-f]{32}$/.test(u) ? t.success(u) : t.failure(u, c)),
  (s) => s,
);

const Finite = new t.Type<number, number, unknown>(
  'a finite number',
  (u): u is number => typeof u === 'number' && Number.isFinite(u),
  (u, c) => (typeof u === 'number' && Number.isFinite(u) ? t.success(u) : t.failure(u, c)),
  (n) => n,
);

const Overrides = new t.Type<Record<string, number | boolean>, Record<string, number | boolean>, unknown>(
  'at most 32 hyperparameters, each a finite number or a boolean',
  (u): u is Record<string, number | boolean> => E.isRight(Overrides.validate(u, [])),
  (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c);
    const entries = Object.entries(u);
    if (entries.length > 32) return t.failure(u, c);
    const out: Record<string, number | boolean> = {};
    for (const [k, v] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(k)) return t.failure(u, c);
      if (typeof v !== 'boolean' && !(typeof v === 'number' && Number.isFinite(v))) return t.failure(u, c);
      out[k] = v;
    }
    return t.success(out);
  },
  (o) => o,
);

/** The RunSpec as a job may carry it: the same fields, bounded, and nothing else. */
const JobSpec = t.intersection([
  t.exact(t.type({
    dataset: SafeName,
    model: SafeName,
    optimizer: t.exact(t.intersection([t.type({ name: SafeName, preset: SafeName, overrides: Overrides }), t.partial({ schedule: t.exact(Schedule) })])),
    seed: intIn('a seed from 0 to 2^32 - 1', 0, 2 ** 32 - 1),
    epochs: intIn('a number of epochs from 1 to 10000', 1, 10_000),
    batchSize: intIn('a batch size from 1 to 1000000', 1, 1_000_000),
    backend: SafeName,
  })),
  t.exact(t.partial({
    subset: intIn('a subset from 1 to 100000000', 1, 100_000_000),
    testSubset: intIn('a test subset from 1 to 100000000', 1, 100_000_000),
    holdout: intIn('a holdout from 1 to 100000000', 1, 100_000_000),
  })),
]);

export const DataIdentity = t.exact(
  t.type({
    name: SafeName,
    /** MD5 of each file's decompressed contents, so `.gz` and plain copies of the same data agree. */
    md5: t.exact(t.type({ trainImages: Md5, trainLabels: Md5, testImages: Md5, testLabels: Md5 })),
  }),
);
export type DataIdentity = t.TypeOf<typeof DataIdentity>;

/** How often the worker reports live progress. */
export const JobFitOptions = t.exact(
  t.partial({
    progressEveryMs: intIn('a progress interval from 0 to 3600000 ms', 0, 3_600_000),
  }),
);
export type JobFitOptions = t.TypeOf<typeof JobFitOptions>;

export const JOB_FORMAT = 1;

export const JobData = t.intersection([
  t.exact(t.type({
    format: t.literal(JOB_FORMAT),
    spec: JobSpec,
    data: DataIdentity,
    fit: JobFitOptions,
    /** Evaluate where the model is, with these options (the pipeline's `evaluate`); null: training metrics only. */
    evaluation: t.union([EvaluateOptions, t.null]),
  })),
  t.exact(t.partial({
    /** Train only up to this epoch, then hand the run back paused (ASHA's rungs). */
    untilEpoch: intIn('an epoch from 1 to 10000', 1, 10_000),
  })),
]);
export interface JobData {
  readonly format: typeof JOB_FORMAT;
  readonly spec: RunSpec;
  readonly data: DataIdentity;
  readonly fit: JobFitOptions;
  readonly evaluation: EvaluateOptions | null;
  readonly untilEpoch?: number;
}

/** Job data bigger than this is refused before it is even decoded. */
const MAX_JOB_BYTES = 64 * 1024;

/**
 * Decodes a job as a worker receives it. Left names what was wrong; nothing of a refused job is used.
 * The job's id must be its spec's run id, so that a job cannot write into another run's records.
 */
export const decodeJob = (jobId: string | undefined, raw: unknown): E.Either<InvalidConfig, JobData> => {
  let size: number;
  try {
    size = JSON.stringify(raw)?.length ?? 0;
  } catch {
    return E.left(invalidConfig({ path: '', message: 'Refused a job whose data is not JSON.' }));
  }
  if (size > MAX_JOB_BYTES) return E.left(invalidConfig({ path: '', message: `Refused a job of ${size} bytes: a run's job is well under ${MAX_JOB_BYTES}.` }));
  return pipe(
    JobData.decode(raw),
    E.mapLeft((errs) => reportErrors(errs, 'job')),
    E.chain((job) =>
      runId(job.spec) === jobId
        ? E.right(job as JobData)
        : E.left(
            invalidConfig({
              path: 'spec',
              message: `Refused job '${String(jobId)}': its id is not the run id of its spec (${runId(job.spec)}).`,
            }),
          ),
    ),
  );
};

/** The job for a run: what a coordinator enqueues (under the run's id). */
export const jobFor = (
  spec: RunSpec,
  data: DataIdentity,
  opts: { fit?: JobFitOptions; evaluation?: EvaluateOptions | null; untilEpoch?: number } = {},
): JobData => ({
  format: JOB_FORMAT,
  spec,
  data,
  fit: opts.fit ?? {},
  evaluation: opts.evaluation === undefined ? {} : opts.evaluation,
  ...(opts.untilEpoch !== undefined && opts.untilEpoch < spec.epochs ? { untilEpoch: opts.untilEpoch } : {}),
});

import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';
import { reportErrors } from '../config/spec.js';

/**
 * Asynchronous successive halving (ASHA; Li et al. 2018, "A System for Massively Parallel Hyperparameter
 * Tuning", Algorithm 2) as a pure scheduler over plain JSON state. Whenever a worker is free it asks for a
 * job: the best trial of the highest rung that sits in that rung's top 1/eta and has not been promoted yet
 * moves up one rung; otherwise a new trial starts at the bottom rung. No rung ever waits for a full
 * cohort, so a slow trial never idles the other workers. A trial that is never promoted has stopped there.
 *
 * Rungs are at R/eta^k (k = K..0, K = floor(log_eta(R/r))) so that the top rung is exactly the full budget
 * R; with integer r and R (epochs) each rung's resource is rounded to an integer.
 */

const Positive = t.refinement(t.number, (n) => Number.isFinite(n) && n > 0, 'PositiveNumber');
const Count = t.refinement(t.number, (n) => Number.isInteger(n) && n > 0, 'PositiveInt');
const Index = t.refinement(t.number, (n) => Number.isInteger(n) && n >= 0, 'NonNegativeInt');

export const AshaConfig = t.type({
  /** r: the resource (epochs) of the bottom rung. */
  minResource: Positive,
  /** R: the full budget, the top rung's resource. */
  maxResource: Positive,
  /** Reduction factor: the top 1/eta of a rung is promoted. */
  eta: Positive,
  /** How many trials (configurations) to start in all. */
  trials: Count,
  /** 'max' for accuracy, 'min' for loss. */
  direction: t.union([t.literal('max'), t.literal('min')]),
});
export type AshaConfig = t.TypeOf<typeof AshaConfig>;

export const AshaTrial = t.type({
  id: Index,
  /** The validation metric reported at rungs 0, 1, ...; null when it was not finite (a diverged run). */
  metrics: t.array(t.union([t.number, t.null])),
  /** The rung whose job is in flight, or null. */
  running: t.union([Index, t.null]),
});
export type AshaTrial = t.TypeOf<typeof AshaTrial>;

export const AshaJob = t.type({
  trial: Index,
  rung: Index,
  /** Total resource (epochs) the trial must have had when it reports at this rung. */
  resource: Positive,
  /** Resource already spent at the previous rung (0 at rung 0): training continues from there. */
  from: t.number,
});
export type AshaJob = t.TypeOf<typeof AshaJob>;

export const AshaState = t.type({
  version: t.literal(1),
  config: AshaConfig,
  /** The resource of each rung, bottom to top. */
  rungs: t.array(Positive),
  /** Started trials, in id order (trial i is the i-th started). */
  trials: t.array(AshaTrial),
  /** Jobs in flight when the sweep was interrupted, issued again first on resumption. */
  queue: t.array(AshaJob),
});
export type AshaState = t.TypeOf<typeof AshaState>;

export type AshaDecision = AshaJob | 'wait' | 'done';

const bad = (path: string, message: string) => E.left(invalidConfig({ path, message }));

/** The rung resources for r, R and eta (see the module comment). */
export const rungResources = (minResource: number, maxResource: number, eta: number): number[] => {
  // The epsilon keeps R/r = eta^K (e.g. 9/1 with eta 3) from flooring to K - 1 through rounding.
  const K = Math.floor(Math.log(maxResource / minResource) / Math.log(eta) + 1e-9);
  const integer = Number.isInteger(minResource) && Number.isInteger(maxResource);
  return Array.from({ length: K + 1 }, (_, k) => {
    const x = k === K ? maxResource : maxResource / Math.pow(eta, K - k);
    return integer ? Math.round(x) : x;
  });
};

const checkConfig = (c: AshaConfig): E.Either<InvalidConfig, AshaConfig> => {
  if (!(c.eta >= 2)) return bad('asha.eta', `ASHA's reduction factor eta must be at least 2, got ${c.eta} (3 is the usual choice).`);
  if (!(c.minResource <= c.maxResource))
    return bad('asha.minResource', `ASHA's minimum resource (${c.minResource}) must not exceed the maximum (${c.maxResource}): lower --min-epochs or raise --epochs.`);
  return E.right(c);
};

/** A fresh scheduler state. */
export const createAsha = (config: AshaConfig): E.Either<InvalidConfig, AshaState> =>
  pipe(
    AshaConfig.decode(config),
    E.mapLeft((errs) => reportErrors(errs, 'ASHA config')),
    E.chain(checkConfig),
    E.map((c) => ({
      version: 1 as const,
      config: c,
      rungs: rungResources(c.minResource, c.maxResource, c.eta),
      trials: [],
      queue: [],
    })),
  );

/** Validates a state read back from JSON (the store), including its internal consistency. */
export const decodeAshaState = (u: unknown): E.Either<InvalidConfig, AshaState> =>
  pipe(
    AshaState.decode(u),
    E.mapLeft((errs) => reportErrors(errs, 'ASHA state')),
    E.chain((s) => E.map(() => s)(checkConfig(s.config))),
    E.chain((s): E.Either<InvalidConfig, AshaState> => {
      const expected = rungResources(s.config.minResource, s.config.maxResource, s.config.eta);
      if (JSON.stringify(expected) !== JSON.stringify(s.rungs))
        return bad('asha.rungs', `The saved ASHA rungs ${JSON.stringify(s.rungs)} do not match its config (${JSON.stringify(expected)}): the state was edited or belongs to another sweep; start a new sweep.`);
      if (s.trials.length > s.config.trials)
        return bad('asha.trials', `The saved ASHA state has ${s.trials.length} trials but its config allows ${s.config.trials}.`);
      for (const [i, tr] of s.trials.entries()) {
        const ok =
          tr.id === i &&
          tr.metrics.length <= s.rungs.length &&
          (tr.running === null || tr.running === tr.metrics.length) &&
          tr.metrics.slice(0, -1).every((m) => m !== null);
        if (!ok) return bad(`asha.trials.${i}`, `The saved ASHA state is inconsistent at trial ${i}: start a new sweep.`);
      }
      for (const j of s.queue)
        if (s.trials[j.trial]?.running !== j.rung)
          return bad('asha.queue', `The saved ASHA state queues trial ${j.trial} at rung ${j.rung} but that job is not in flight.`);
      return E.right(s);
    }),
  );

const jobFor = (s: AshaState, trial: number, rung: number): AshaJob => ({
  trial,
  rung,
  resource: s.rungs[rung]!,
  from: rung === 0 ? 0 : s.rungs[rung - 1]!,
});

/** Best first: by metric in the configured direction, failed (null) last, then by trial id. */
const ranked = (s: AshaState, rung: number): AshaTrial[] => {
  const sign = s.config.direction === 'max' ? -1 : 1;
  return s.trials
    .filter((tr) => tr.metrics.length > rung)
    .sort((a, b) => {
      const ma = a.metrics[rung]!;
      const mb = b.metrics[rung]!;
      if (ma === null || mb === null) return (ma === null ? 1 : 0) - (mb === null ? 1 : 0) || a.id - b.id;
      return sign * (ma - mb) || a.id - b.id;
    });
};

/** Whether the trial has left rung k (its job at k + 1 is in flight or done). */
const promotedFrom = (tr: AshaTrial, rung: number): boolean => tr.metrics.length > rung + 1 || tr.running === rung + 1;

/** The trial to promote from the highest possible rung, if any: [trial id, rung it moves to]. */
const promotion = (s: AshaState): [number, number] | undefined => {
  for (let k = s.rungs.length - 2; k >= 0; k--) {
    const rung = ranked(s, k);
    const top = rung.slice(0, Math.floor(rung.length / s.config.eta));
    const pick = top.find((tr) => tr.metrics[k] !== null && !promotedFrom(tr, k));
    if (pick !== undefined) return [pick.id, k + 1];
  }
  return undefined;
};

const setTrial = (s: AshaState, tr: AshaTrial): AshaState => {
  const trials = s.trials.slice();
  trials[tr.id] = tr;
  return { ...s, trials };
};

/** What a free worker should do next, and the state after handing it out. */
export const ashaNext = (s: AshaState): { readonly decision: AshaDecision; readonly state: AshaState } => {
  const [queued, ...rest] = s.queue;
  if (queued !== undefined) return { decision: queued, state: { ...s, queue: rest } };
  const p = promotion(s);
  if (p !== undefined) {
    const [id, rung] = p;
    return { decision: jobFor(s, id, rung), state: setTrial(s, { ...s.trials[id]!, running: rung }) };
  }
  if (s.trials.length < s.config.trials) {
    const id = s.trials.length;
    return { decision: jobFor(s, id, 0), state: { ...s, trials: [...s.trials, { id, metrics: [], running: 0 }] } };
  }
  return { decision: s.trials.some((tr) => tr.running !== null) ? 'wait' : 'done', state: s };
};

/** Records the validation metric of a finished job. A non-finite metric marks the trial failed. */
export const ashaReport = (s: AshaState, trial: number, rung: number, metric: number): E.Either<InvalidConfig, AshaState> => {
  const tr = s.trials[trial];
  if (tr === undefined) return bad('asha.trial', `ASHA has no trial ${trial} (${s.trials.length} started so far).`);
  if (tr.running !== rung)
    return bad(
      'asha.rung',
      `ASHA trial ${trial} has ${tr.running === null ? 'no job in flight' : `its job in flight at rung ${tr.running}`}, so it cannot report at rung ${rung}.`,
    );
  if (s.queue.some((j) => j.trial === trial))
    return bad('asha.queue', `ASHA trial ${trial} was interrupted and has not been issued again yet: call ashaNext first.`);
  return E.right(setTrial(s, { ...tr, metrics: [...tr.metrics, Number.isFinite(metric) ? metric : null], running: null }));
};

/**
 * The state to continue from after an interruption: every job that was in flight is issued again (from
 * its previous rung's resource) before anything else, so no trial is lost or promoted twice.
 */
export const ashaResume = (s: AshaState): AshaState => ({
  ...s,
  queue: s.trials.filter((tr) => tr.running !== null && !s.queue.some((j) => j.trial === tr.id)).reduce(
    (q, tr) => [...q, jobFor(s, tr.id, tr.running!)],
    s.queue,
  ),
});

export type AshaTrialStatus = 'not started' | 'running' | 'waiting' | 'stopped' | 'failed' | 'completed';

export interface AshaTrialSummary {
  readonly trial: number;
  readonly status: AshaTrialStatus;
  /** Highest rung with a reported metric (-1 if none). */
  readonly rung: number;
  readonly metrics: readonly (number | null)[];
  /** E.g. 'completed', 'stopped at rung 1 (3 epochs)', 'running at rung 2'. */
  readonly label: string;
}

/** True when the sweep has finished: nothing to promote or start and nothing in flight. */
export const ashaIsDone = (s: AshaState): boolean => ashaNext(s).decision === 'done';

/**
 * Each trial's standing. 'waiting' means reported at a rung and not (yet) promoted while the sweep is still
 * going; once the sweep is done those trials are 'stopped' there for good.
 */
export const ashaSummary = (s: AshaState): AshaTrialSummary[] => {
  const done = ashaIsDone(s);
  const top = s.rungs.length - 1;
  const at = (k: number) => `rung ${k} (${s.rungs[k]} epoch${s.rungs[k] === 1 ? '' : 's'})`;
  return Array.from({ length: s.config.trials }, (_, id): AshaTrialSummary => {
    const tr = s.trials[id];
    if (tr === undefined) return { trial: id, status: 'not started', rung: -1, metrics: [], label: 'not started' };
    const rung = tr.metrics.length - 1;
    const base = { trial: id, rung, metrics: tr.metrics };
    if (tr.running !== null) return { ...base, status: 'running', label: `running at ${at(tr.running)}` };
    if (tr.metrics[rung] === null) return { ...base, status: 'failed', label: `failed at ${at(rung)} (non-finite metric)` };
    if (rung === top) return { ...base, status: 'completed', label: 'completed' };
    return done
      ? { ...base, status: 'stopped', label: `stopped at ${at(rung)}` }
      : { ...base, status: 'waiting', label: `waiting at ${at(rung)}` };
  });
};

/** For each rung but the top, the trials promoted from it, best first at that rung. */
export const ashaPromotions = (s: AshaState): number[][] =>
  s.rungs.slice(0, -1).map((_, k) => ranked(s, k).filter((tr) => promotedFrom(tr, k)).map((tr) => tr.id));

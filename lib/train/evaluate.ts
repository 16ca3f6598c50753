import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { EMPTY, Observable, concatMap, defer, of } from 'rxjs';
import { strict } from '../config/codecs.js';
import { PositiveInt, reportErrors, runLabel, type RunSpec } from '../config/spec.js';
import { deriveSeed } from '../data/rng.js';
import { invalidConfig, type OptbenchError } from '../errors.js';
import { divergence } from './divergence.js';
import { evaluateSplit, vaeGrids, type Evaluation } from './evaluation.js';
import { isRunEvent, type EpochEnded, type Evaluated, type Metrics, type RunEnded, type RunEvent, type StreamEvent } from './events.js';
import { borrow, isCopyOfLent, type ModelLoan } from './loan.js';
import { evaluationSplit } from './splits.js';
import { raise } from '../observable.js';

/**
 * What `evaluate` measures. `split`: `test`, `validation` (the images a spec holds out with `holdout`), or
 * `auto` (the default: validation when the spec holds images out, else test). `batchSize`: images per
 * forward pass (200 by default; the VAE's sampling is seeded per batch, so it is part of what is computed).
 * `heldOut`: also measure the held-out images each epoch, as the event's `validation` beside `test` (what
 * a target is judged on while the test set's numbers stay the test set's; a spec without `holdout` then
 * ends as InvalidConfig). Plain data: a trainer elsewhere gets it with each job (RunContext.evaluation).
 */
export const EvaluateOptions = strict(
  t.partial({
    split: t.union([t.literal('auto'), t.literal('test'), t.literal('validation')], "'auto', 'test' or 'validation'"),
    batchSize: PositiveInt,
    heldOut: t.boolean,
  }),
  'evaluate options',
);
export type EvaluateOptions = t.TypeOf<typeof EvaluateOptions>;

export const decodeEvaluateOptions = (u: unknown): E.Either<OptbenchError, EvaluateOptions> =>
  pipe(
    EvaluateOptions.decode(u ?? {}),
    E.mapLeft((errs) => reportErrors(errs, 'evaluate options')),
  );

/** The options as they apply to one run: `auto` made concrete, the batch size filled in. */
export const resolveEvaluation = (spec: RunSpec, opts: EvaluateOptions): Evaluated => ({
  split: (opts.split ?? 'auto') === 'auto' ? (spec.holdout !== undefined ? 'validation' : 'test') : (opts.split as Evaluated['split']),
  batchSize: opts.batchSize ?? 200,
});

/** Seed of an epoch's evaluation (the VAE's sampling), so that evaluations are reproducible. */
const evalSeed = (spec: RunSpec, epoch: number): number => deriveSeed(spec.seed, epoch, 0xe7a1);

interface RunState {
  spec: RunSpec | null;
  last: { epoch: number; result: Evaluation } | null;
  evalMs: number;
}

const mismatch = (spec: RunSpec | null, want: EvaluateOptions, got: Evaluated, heldOut: boolean): OptbenchError | null => {
  if (spec === null) return null;
  const wanted = resolveEvaluation(spec, want);
  const differs =
    (want.split !== undefined && want.split !== 'auto' && wanted.split !== got.split) ||
    (want.batchSize !== undefined && want.batchSize !== got.batchSize) ||
    (want.heldOut === true && !heldOut);
  return differs
    ? invalidConfig({
        path: 'evaluate',
        message: `evaluate asks for ${JSON.stringify({ ...wanted, ...(want.heldOut === true ? { heldOut: true } : {}) })} but ${runLabel(spec)} arrived evaluated with ${JSON.stringify({ ...got, ...(heldOut ? { heldOut: true } : {}) })}: give the trainer (trainGrid's \`evaluate\` option) the same options as evaluate.`,
      })
    : null;
};

const noModel = (e: EpochEnded | RunEnded): OptbenchError =>
  invalidConfig({
    path: 'evaluate',
    message: isCopyOfLent(e)
      ? `evaluate got a copy of ${e.type} of run ${e.runId}: a stage before evaluate copied the event (map(e => ({ ...e })), a spread, ` +
        `JSON), and the trained model is lent with the trainer's own event object, not with copies. Put evaluate before that stage, ` +
        `or pass the event on as it is.`
      : `evaluate got ${e.type} of run ${e.runId} without its model and without an evaluation. Either a stage before evaluate ` +
        `delivers events later than the trainer sends them (put evaluate right after trainGrid, or after synchronous stages only), ` +
        `or the trainer runs elsewhere: give it the evaluation options (trainGrid(specs, { evaluate: {...} })).`,
  });

/** One pass of the lent model over `which` after `epoch`, or why the run must end. */
const pass = (loan: ModelLoan, how: Evaluated, which: Evaluated['split'], epoch: number): E.Either<OptbenchError, Evaluation> => {
  const { spec, data, model } = loan;
  const split = evaluationSplit(data, spec, which);
  if (E.isLeft(split)) return split;
  const result = loan.compute(() =>
    evaluateSplit(model, split.right, {
      batchSize: how.batchSize,
      ...(spec.testSubset !== undefined ? { count: spec.testSubset } : {}),
      seed: evalSeed(spec, epoch),
      classes: data.classNames.length,
    }),
  );
  const blown = divergence(spec, result.loss, loan.reference, {
    epoch,
    step: 0,
    what: which === 'validation' ? 'validation loss' : 'test loss',
    at: `after epoch ${epoch}`,
  });
  return blown === null ? E.right(result) : E.left(blown);
};

interface Measured {
  readonly how: Evaluated;
  readonly result: Evaluation;
  /** The held-out images' metrics, when `heldOut` asked for them. */
  readonly validation: Metrics | null;
  readonly ms: number;
}

/** The evaluation of the lent model after `epoch` (and of its held-out images with `heldOut`), or why the run must end. */
const measure = (loan: ModelLoan, opts: EvaluateOptions, epoch: number, heldOut = opts.heldOut === true): E.Either<OptbenchError, Measured> => {
  const how = resolveEvaluation(loan.spec, opts);
  const t0 = performance.now();
  return pipe(
    pass(loan, how, how.split, epoch),
    E.chain((result): E.Either<OptbenchError, { result: Evaluation; validation: Metrics | null }> =>
      !heldOut
        ? E.right({ result, validation: null })
        : how.split === 'validation'
          ? E.right({ result, validation: { loss: result.loss, accuracy: result.accuracy } })
          : pipe(
              pass(loan, how, 'validation', epoch),
              E.map((v) => ({ result, validation: { loss: v.loss, accuracy: v.accuracy } })),
            ),
    ),
    E.map(({ result, validation }) => ({ how, result, validation, ms: performance.now() - t0 })),
  );
};

/**
 * Evaluates each epoch's trained model (test or validation loss and accuracy, in inference mode) and, when
 * a run ends, its confusion matrix or VAE image grids. It borrows the model the trainer lends with
 * EpochEnded and RunEnded (see loan.ts), synchronously; an event that arrives already evaluated (a trainer
 * that evaluated where its model is) is passed on. Every other event is passed on unchanged.
 *
 * Bad options are an InvalidConfig on the error channel at subscription, as is an unevaluated event without
 * its model. A run's own trouble ends that run as RunFailed (the trainer emits it) and the grid goes on: a
 * non-finite evaluation loss is Diverged, `validation` for a spec without `holdout` is InvalidConfig.
 */
export const evaluate =
  (options: EvaluateOptions = {}) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E> =>
    defer(() => {
      const decoded = decodeEvaluateOptions(options);
      if (E.isLeft(decoded)) return raise(decoded.left);
      const opts = decoded.right;
      const runs = new Map<string, RunState>();
      const state = (runId: string): RunState => {
        let s = runs.get(runId);
        if (s === undefined) runs.set(runId, (s = { spec: null, last: null, evalMs: 0 }));
        return s;
      };

      const epoch = (e: EpochEnded): Observable<EpochEnded> => {
        const s = state(e.runId);
        if (e.test !== null && e.evaluation !== null) {
          const bad = mismatch(s.spec, opts, e.evaluation, e.validation !== undefined);
          return bad ? raise(bad) : of(e);
        }
        const loan = borrow(e);
        if (loan === undefined) return raise(noModel(e));
        const m = measure(loan, opts, e.epoch);
        if (E.isLeft(m)) {
          loan.fail(m.left);
          return EMPTY;
        }
        s.spec = loan.spec;
        s.last = { epoch: e.epoch, result: m.right.result };
        s.evalMs += m.right.ms;
        const { how, result, validation, ms } = m.right;
        return of({ ...e, test: { loss: result.loss, accuracy: result.accuracy }, evaluation: how, evalMs: ms, ...(validation !== null ? { validation } : {}) });
      };

      const ended = (e: RunEnded): Observable<RunEnded> => {
        const s = state(e.runId);
        runs.delete(e.runId);
        const loan = borrow(e);
        if (loan === undefined) return e.final !== null || s.last === null ? of(e) : raise(noModel(e));
        const { spec, model } = loan;
        // The last epoch's evaluation; evaluated again only if this operator did not see that epoch.
        const last = s.last?.epoch === spec.epochs ? E.right({ result: s.last.result, ms: 0 }) : measure(loan, opts, spec.epochs, false);
        if (E.isLeft(last)) {
          loan.fail(last.left);
          return EMPTY;
        }
        const { result, ms } = last.right;
        return of({
          ...e,
          final: { testLoss: result.loss, testAccuracy: result.accuracy },
          confusion: result.confusion,
          vae: model.kind === 'vae' ? loan.compute(() => vaeGrids(model, deriveSeed(spec.seed, 0x5a3b1e))) : null,
          evalMs: e.evalMs + s.evalMs + ms,
        });
      };

      return source.pipe(
        concatMap((e): Observable<E> => {
          if (!isRunEvent(e)) return of(e);
          // A transformed event keeps its member type of E.
          const same = (o: Observable<RunEvent>) => o as unknown as Observable<E>;
          switch (e.type) {
            case 'RunStarted':
              state(e.runId).spec = e.spec;
              return of(e);
            case 'EpochEnded':
              return same(epoch(e));
            case 'RunEnded':
              return same(ended(e));
            case 'RunPaused':
            case 'RunFailed':
              runs.delete(e.runId);
              return of(e);
            case 'BatchEnded':
              return of(e);
          }
        }),
      );
    });

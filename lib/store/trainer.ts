import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { EMPTY, defer } from 'rxjs';
import { runId as specId, runLabel } from '../config/spec.js';
import { runFit, type FitOptions } from '../train/fit.js';
import { evaluatedHere, type RunTrainer } from '../train/trainer.js';
import { checkpointDir } from './checkpoint.js';
import { fileCheckpointer } from './checkpointer.js';
import type { Store } from './store.js';
import type { RunRow } from './types.js';
import type { OptbenchError } from '../errors.js';
import { raise } from '../observable.js';

export interface StoreTrainerOptions extends Omit<FitOptions, 'index' | 'total' | 'checkpointer' | 'untilEpoch'> {
  /** Leave a run the store has as failed (diverged) failed, instead of training it again. */
  readonly keepFailed?: boolean;
  /**
   * Trains a run once the store has given it to this process (default: `runFit` here, continuing from its
   * checkpoint in `<outDir>/checkpoints`).
   */
  readonly train?: RunTrainer;
}

/** What the store says to do with a run: leave it (and why), or train it here. */
type Verdict = { readonly skip: string } | 'train';

/**
 * A RunTrainer that makes grids and sweeps resumable: a run finished in the store is skipped, a run another
 * process holds is left to it, a run that already has the epochs asked for (`untilEpoch`: a paused ASHA
 * trial) is not trained again, and any other run is claimed and continues from its last checkpoint. What
 * it trains goes to the store through `persist`, downstream: use the same store there.
 */
export const storeTrainer =
  (store: Store, outDir: string, opts: StoreTrainerOptions = {}, log: (message: string) => void = (m) => void process.stderr.write(`${m}\n`)): RunTrainer =>
  (spec, data, ctx) =>
    defer(() => {
      const id = specId(spec);
      const name = `run ${ctx.index}/${ctx.total} ${runLabel(spec)}`;
      const completed = (runId: string): number => E.getOrElse(() => 0)(store.completedEpochs(runId));
      /** Why the store says to leave the run, or 'train' once this process holds it. */
      const verdict: E.Either<OptbenchError, Verdict> = pipe(
        opts.keepFailed ? E.map((rows: readonly RunRow[]) => rows.find((r) => r.runId === id))(store.listRuns()) : E.right<OptbenchError, RunRow | undefined>(undefined),
        E.flatMap((row): E.Either<OptbenchError, Verdict> =>
          row?.status === 'failed'
            ? E.right({ skip: `failed earlier (${row.error?.message ?? 'no reason recorded'}), not trained again` })
            : pipe(
                store.claimRun(id, spec),
                E.flatMap((claim): E.Either<OptbenchError, Verdict> =>
                  claim === 'done'
                    ? E.right({ skip: 'finished earlier, skipped' })
                    : claim === 'busy'
                      ? E.right({ skip: 'another process is training it, skipped' })
                      : ctx.untilEpoch < spec.epochs && completed(id) >= ctx.untilEpoch
                        ? E.map(() => ({ skip: `${completed(id)} epochs trained earlier, not trained again` }))(store.releaseRun(id))
                        : E.right('train'),
                ),
              ),
        ),
      );
      const { keepFailed: _k, train, ...fit } = opts;
      return pipe(
        verdict,
        E.match(raise, (v) => {
          if (v !== 'train') {
            log(`${name}: ${v.skip}`);
            return EMPTY;
          }
          if (train) return train(spec, data, ctx);
          return runFit(spec, data, {
            ...fit,
            index: ctx.index,
            total: ctx.total,
            untilEpoch: ctx.untilEpoch,
            checkpointer: fileCheckpointer(checkpointDir(outDir), completed),
          }).pipe(evaluatedHere(ctx));
        }),
      );
    });

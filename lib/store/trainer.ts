import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, defer } from 'rxjs';
import { runId as specId, runLabel } from '../config/spec.js';
import { runFit, type FitOptions } from '../train/fit.js';
import { evaluatedHere, type RunTrainer } from '../train/trainer.js';
import { checkpointDir } from './checkpoint.js';
import { fileCheckpointer } from './checkpointer.js';
import type { Store } from './store.js';
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
      if (opts.keepFailed) {
        const rows = store.listRuns();
        if (E.isLeft(rows)) return raise(rows.left);
        const row = rows.right.find((r) => r.runId === id);
        if (row?.status === 'failed') {
          log(`${name}: failed earlier (${row.error?.message ?? 'no reason recorded'}), not trained again`);
          return EMPTY;
        }
      }
      const claim = store.claimRun(id, spec);
      if (E.isLeft(claim)) return raise(claim.left);
      if (claim.right === 'done') {
        log(`${name}: finished earlier, skipped`);
        return EMPTY;
      }
      if (claim.right === 'busy') {
        log(`${name}: another process is training it, skipped`);
        return EMPTY;
      }
      const completed = (runId: string): number => E.getOrElse(() => 0)(store.completedEpochs(runId));
      if (ctx.untilEpoch < spec.epochs && completed(id) >= ctx.untilEpoch) {
        const released = store.releaseRun(id);
        if (E.isLeft(released)) return raise(released.left);
        log(`${name}: ${completed(id)} epochs trained earlier, not trained again`);
        return EMPTY;
      }
      const { keepFailed: _k, train, ...fit } = opts;
      if (train) return train(spec, data, ctx);
      return runFit(spec, data, {
        ...fit,
        index: ctx.index,
        total: ctx.total,
        untilEpoch: ctx.untilEpoch,
        checkpointer: fileCheckpointer(checkpointDir(outDir), completed),
      }).pipe(evaluatedHere(ctx));
    });

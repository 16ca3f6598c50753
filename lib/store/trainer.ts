import * as E from 'fp-ts/lib/Either.js';
import { EMPTY, defer, throwError } from 'rxjs';
import { runId as specId, runLabel } from '../config/spec.js';
import { runFit, type FitOptions } from '../train/fit.js';
import type { RunTrainer } from '../train/grid.js';
import { checkpointDir } from './checkpoint.js';
import { fileCheckpointer } from './checkpointer.js';
import type { Store } from './store.js';

/**
 * A RunTrainer for `trainGrid` that makes grids resumable: a run finished in the store is skipped, a run
 * another process holds is left to it, and any other run is claimed and continues from its last
 * checkpoint (in `<outDir>/checkpoints`).
 */
export const storeTrainer =
  (store: Store, outDir: string, opts: Omit<FitOptions, 'index' | 'total' | 'checkpointer'> = {}, log: (message: string) => void = (m) => void process.stderr.write(`${m}\n`)): RunTrainer =>
  (spec, data, ctx) =>
    defer(() => {
      const id = specId(spec);
      const claim = store.claimRun(id, spec);
      if (E.isLeft(claim)) return throwError(() => claim.left);
      if (claim.right === 'done') {
        log(`run ${ctx.index}/${ctx.total} ${runLabel(spec)}: finished earlier, skipped`);
        return EMPTY;
      }
      if (claim.right === 'busy') {
        log(`run ${ctx.index}/${ctx.total} ${runLabel(spec)}: another process is training it, skipped`);
        return EMPTY;
      }
      const completed = (runId: string): number => E.getOrElse(() => 0)(store.completedEpochs(runId));
      return runFit(spec, data, { ...opts, ...ctx, checkpointer: fileCheckpointer(checkpointDir(outDir), completed) });
    });

import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, map, tap, toArray } from 'rxjs';
import { runId as specId, type RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import { interrupted as interruptedError, type OptbenchError } from '../errors.js';
import { checkpointDir } from '../store/checkpoint.js';
import { fileCheckpointer } from '../store/checkpointer.js';
import { persist } from '../store/persist.js';
import type { Store } from '../store/store.js';
import type { EpochRecord } from '../train/record.js';
import type { RunEvent } from '../train/events.js';
import { runFit, type FitOptions } from '../train/fit.js';
import type { TrialProgress, TrialTrainer } from './run.js';

/** The validation metric of an epoch: accuracy for classifiers, loss for VAEs (held-out images). */
export const validationMetric = (e: Pick<EpochRecord, 'test'>): number => e.test.accuracy ?? e.test.loss;

export interface StoreTrialOptions extends Omit<FitOptions, 'index' | 'total' | 'checkpointer' | 'shouldStop'> {
  readonly shouldStop?: () => boolean;
  /** One line per event worth telling (trial trained an epoch, skipped, paused). */
  readonly log?: (line: string) => void;
  readonly describe?: (spec: RunSpec) => string;
}

const fail = (e: OptbenchError): never => {
  throw e;
};

/**
 * A TrialTrainer over the store: a trial is a run like any grid's, so a sweep resumes as a grid does.
 * Epochs already stored (from a paused ASHA rung, an interrupted or a killed sweep) are never retrained:
 * the run continues from its checkpoint, and stops (paused, status `interrupted`) once `untilEpoch`
 * epochs are complete. A run that failed (diverged) stays failed.
 */
export const storeTrialTrainer =
  (store: Store, outDir: string, data: Dataset, opts: StoreTrialOptions = {}): TrialTrainer =>
  async (spec, untilEpoch, ctx) => {
    const id = specId(spec);
    const log = opts.log ?? (() => undefined);
    const name = `trial ${ctx.trial + 1}/${ctx.total}${opts.describe ? ` (${opts.describe(spec)})` : ''}`;
    const stored = (): number[] => E.getOrElseW(fail)(store.runEpochs(id)).map(validationMetric);
    const row = E.getOrElseW(fail)(store.listRuns()).find((r) => r.runId === id);
    if (row?.status === 'failed') return { metrics: stored(), failed: row.error?.message ?? 'failed', interrupted: false };
    const claim = E.getOrElseW(fail)(store.claimRun(id, spec));
    if (claim === 'busy') {
      log(`${name}: another process is training it; run this sweep again once it has finished`);
      return { metrics: stored(), failed: null, interrupted: true };
    }
    const completed = E.getOrElseW(fail)(store.completedEpochs(id));
    if (claim === 'done' || completed >= untilEpoch) {
      if (claim !== 'done') E.getOrElseW(fail)(store.releaseRun(id));
      log(`${name}: ${completed} epoch${completed === 1 ? '' : 's'} trained earlier, not retrained`);
      return { metrics: stored().slice(0, Math.max(untilEpoch, claim === 'done' ? completed : 0)), failed: null, interrupted: false };
    }
    let epochs = completed;
    const paused = (): boolean => epochs >= untilEpoch;
    const events = await lastValueFrom(
      runFit(spec, data, {
        ...opts,
        index: ctx.trial + 1,
        total: ctx.total,
        checkpointer: fileCheckpointer(checkpointDir(outDir), (r) => E.getOrElse(() => 0)(store.completedEpochs(r))),
        shouldStop: () => paused() || (opts.shouldStop?.() ?? false),
      }).pipe(
        tap((e) => {
          if (e.type === 'EpochEnded') {
            epochs = e.epoch;
            log(`${name}: epoch ${e.epoch}/${e.epochs}, validation ${e.test.accuracy !== null ? `accuracy ${(100 * e.test.accuracy).toFixed(2)} %` : `loss ${e.test.loss.toFixed(4)}`}`);
          }
        }),
        // A rung reached is a pause, not an interruption: say so in the store.
        map((e): RunEvent =>
          e.type === 'RunFailed' && e.error._tag === 'Interrupted' && paused()
            ? {
                ...e,
                error: interruptedError(
                  `Paused by ASHA after epoch ${epochs} of ${spec.epochs}: the trial continues from its checkpoint if it is promoted.`,
                ),
              }
            : e,
        ),
        persist(store),
        toArray(),
      ),
      { defaultValue: [] as RunEvent[] },
    );
    const failedEvent = events.find((e) => e.type === 'RunFailed');
    const progress: TrialProgress = {
      metrics: stored(),
      failed: failedEvent?.type === 'RunFailed' && failedEvent.error._tag !== 'Interrupted' ? failedEvent.error.message : null,
      interrupted: failedEvent?.type === 'RunFailed' && failedEvent.error._tag === 'Interrupted' && !paused(),
    };
    if (progress.failed !== null) log(`${name}: failed: ${progress.failed}`);
    return progress;
  };

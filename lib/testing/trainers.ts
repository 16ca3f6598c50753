import type { Observable } from 'rxjs';
import type { RunSpec } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import type { RunEvent } from '../train/events.js';
import type { RunContext, RunTrainer } from '../train/trainer.js';

export interface TrainerCall {
  readonly spec: RunSpec;
  readonly data: Dataset;
  readonly ctx: RunContext;
}

/**
 * A fake RunTrainer that plays back what `play` returns for each run (typically a cold Observable of
 * the builders' events on a TestScheduler) and records every call, to check afterwards (after the
 * scheduler flushed) what each run was asked.
 */
export const scriptedTrainer = (play: (spec: RunSpec, ctx: RunContext) => Observable<RunEvent>): { trainer: RunTrainer; calls: TrainerCall[] } => {
  const calls: TrainerCall[] = [];
  const trainer: RunTrainer = (spec, data, ctx) => {
    calls.push({ spec, data, ctx });
    return play(spec, ctx);
  };
  return { trainer, calls };
};

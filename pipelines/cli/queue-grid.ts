/**
 * `optbench task|run ... --queue URL`: this process is the coordinator. Its grid runs through the same
 * pipeline as a local grid, with a trainer that submits each run the store does not have yet to the
 * queue (longest first, by the jobs' priority) and follows it there. Runs are submitted by the trainer
 * only, after the plan has been fitted to the loaded data, so a job always carries the sizes its run
 * records.
 */
import * as E from 'fp-ts/lib/Either.js';
import type { OptbenchError } from '../../lib/errors.js';
import { connectQueue } from '../../lib/queue/client.js';
import { queueTrainer } from '../../lib/queue/trainer.js';
import type { Store } from '../../lib/store/store.js';
import { storeTrainer } from '../../lib/store/trainer.js';
import { planGrid } from '../../lib/train/plan.js';
import type { RunTrainer } from '../../lib/train/trainer.js';
import type { GridCommand } from './grid-command.js';

interface AttachedQueue {
  readonly trainer: RunTrainer;
  /** Every run is followed (and so submitted) at once: the workers train them in parallel anyway. */
  readonly concurrency: number;
  close(): Promise<void>;
}

export const attachQueue = async (
  url: string,
  cmd: GridCommand,
  store: Store,
  shouldStop: () => boolean,
): Promise<E.Either<OptbenchError, AttachedQueue>> => {
  // Fitting the plan to the data changes sizes, never the number of runs.
  const specs = planGrid(cmd.job.plan);
  if (E.isLeft(specs)) return specs;
  const client = await connectQueue(url);
  if (E.isLeft(client)) return client;
  process.stderr.write(
    `optbench: the runs go to ${client.right.url.shown} as the grid reaches them; start 'optbench worker --queue URL' on the machines that should train them\n`,
  );
  return E.right({
    trainer: storeTrainer(store, cmd.job.out, { train: queueTrainer(client.right, { shouldStop }) }),
    concurrency: Math.max(1, specs.right.length),
    close: () => client.right.close(),
  });
};

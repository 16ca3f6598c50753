/**
 * `optbench task|run ... --queue URL`: this process is the coordinator. It submits the grid's runs that
 * its store does not have yet (longest first), and follows them into the same pipeline as a local grid.
 */
import * as E from 'fp-ts/lib/Either.js';
import { runId } from '../config/spec.js';
import type { OptbenchError } from '../errors.js';
import { connectQueue } from '../queue/client.js';
import { dataIdentity } from '../queue/data-identity.js';
import { queueTrainer, submitRuns } from '../queue/trainer.js';
import type { Store } from '../store/store.js';
import { storeTrainer } from '../store/trainer.js';
import { planGrid } from '../train/plan.js';
import type { RunTrainer } from '../train/trainer.js';
import type { GridCommand } from './grid-command.js';

interface AttachedQueue {
  readonly trainer: RunTrainer;
  /** Every run is followed at once: the workers train them in parallel anyway. */
  readonly concurrency: number;
  close(): Promise<void>;
}

export const attachQueue = async (
  url: string,
  cmd: GridCommand,
  store: Store,
  shouldStop: () => boolean,
): Promise<E.Either<OptbenchError, AttachedQueue>> => {
  const client = await connectQueue(url);
  if (E.isLeft(client)) return client;
  const close = () => client.right.close();
  const data = cmd.job.data;
  const identity = await dataIdentity({ ...data, dataset: data.dataset ?? 'fashion-mnist' });
  if (E.isLeft(identity)) {
    await close();
    return identity;
  }
  const rows = store.listRuns();
  if (E.isLeft(rows)) {
    await close();
    return rows;
  }
  const done = new Set(rows.right.filter((r) => r.status === 'done').map((r) => r.runId));
  const specs = planGrid(cmd.job.plan);
  if (E.isLeft(specs)) {
    await close();
    return specs;
  }
  try {
    // All at once, so that every worker has work however the coordinator follows them.
    await submitRuns(client.right, specs.right.filter((s) => !done.has(runId(s))), identity.right.identity, { evaluation: {} });
  } catch (e) {
    await close();
    return E.left({ _tag: 'QueueError', url: client.right.url.shown, message: `Could not submit the runs to ${client.right.url.shown}: ${e instanceof Error ? e.message : String(e)}` });
  }
  process.stderr.write(`optbench: runs submitted to ${client.right.url.shown}; start 'optbench worker --queue URL' on the machines that should train them\n`);
  return E.right({
    trainer: storeTrainer(store, cmd.job.out, { train: queueTrainer(client.right, { shouldStop }) }),
    concurrency: Math.max(1, specs.right.length),
    close,
  });
};

/**
 * `optbench worker --queue URL [--concurrency N] [--threads T] [--backend B] [--data-dir D]`: trains the
 * queue's runs until stopped. SIGINT/SIGTERM: each run stops after its current step and goes back to
 * the queue (its epochs up to the last are kept), then the worker exits with 0.
 */
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../../lib/errors.js';
import { startWorker } from '../../lib/queue/worker.js';
import { parseOptions, positiveInt } from './options.js';

const WORKER_OPTIONS = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  backend: { type: 'string' },
  'data-dir': { type: 'string' },
  name: { type: 'string' },
} as const;

/** Milliseconds from an environment variable (for operators tuning how fast a dead worker's run moves on). */
const envMs = (name: string): E.Either<OptbenchError, number | undefined> => positiveInt(name, process.env[name], undefined);

export const workerCommand = async (argv: readonly string[], fail: (e: OptbenchError) => number): Promise<number> => {
  const p = parseOptions(argv, WORKER_OPTIONS);
  if (E.isLeft(p)) return fail(p.left);
  const v = p.right.values;
  if (typeof v.queue !== 'string')
    return fail(invalidConfig({ path: 'queue', message: 'optbench worker needs --queue redis://HOST:PORT (the Redis the coordinator submits runs to).' }));
  const concurrency = positiveInt('concurrency', v.concurrency, 1);
  const threads = positiveInt('threads', v.threads, undefined);
  const lock = envMs('OPTBENCH_QUEUE_LOCK_MS');
  const stalled = envMs('OPTBENCH_QUEUE_STALLED_MS');
  for (const x of [concurrency, threads, lock, stalled]) if (E.isLeft(x)) return fail(x.left);
  const get = (x: E.Either<OptbenchError, number | undefined>) => (E.isRight(x) ? x.right : undefined);
  const started = await startWorker({
    url: v.queue,
    concurrency: get(concurrency)!,
    ...(get(threads) !== undefined ? { threads: get(threads)! } : {}),
    ...(typeof v.backend === 'string' ? { backend: v.backend } : {}),
    ...(typeof v['data-dir'] === 'string' ? { dataDir: v['data-dir'] } : {}),
    ...(typeof v.name === 'string' ? { name: v.name } : {}),
    ...(get(lock) !== undefined ? { lockDurationMs: get(lock)! } : {}),
    ...(get(stalled) !== undefined ? { stalledIntervalMs: get(stalled)! } : {}),
  });
  if (E.isLeft(started)) return fail(started.left);
  const w = started.right;
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) process.exit(130);
    process.stderr.write(`optbench worker ${w.name}: stopping after the current step; its runs go back to the queue (again to quit at once)\n`);
    void w.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await w.done;
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  return code;
};

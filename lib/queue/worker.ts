/**
 * `optbench worker`: takes runs from the queue and trains them, each in a training process of its own
 * (lib/queue/train-process.ts), so that this process's event loop is always free to renew BullMQ's locks,
 * however long a native kernel holds the training process.
 *
 * - A job is decoded with io-ts; a malformed one fails at once (never retried) and trains nothing.
 * - A job whose data set differs from this worker's files (MD5 of each file), or whose backend this
 *   worker will not load, is handed back untouched: this worker stops taking runs and exits with 1 (the
 *   job is fine; another worker can train it).
 * - A job this worker cannot serve because of the job itself (a data set it does not have, a backend
 *   with no such name) fails, alone, with the reason (in `optbench queue status` and the coordinator's
 *   RunFailed); the worker goes on serving other jobs. One bad job never stops the pool.
 * - A run that fails on its own (diverged, bad hyperparameters) is a result; a run whose worker died is
 *   taken by the next worker, from its last committed epoch, until `maxLost` workers have lost it: then
 *   it ends as RunFailed{WorkerLost}.
 * - stop() (SIGINT/SIGTERM): each run stops after its current step and goes back to the queue.
 */
import { hostname } from 'node:os';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import * as E from 'fp-ts/lib/Either.js';
import type { Redis } from 'ioredis';
import { runLabel } from '../config/spec.js';
import { workerLost, type OptbenchError } from '../errors.js';
import { compareIdentity, dataIdentity, type LocatedIdentity } from './data-identity.js';
import { connectRedis, redactUrl } from './connection.js';
import { decodeJob, type JobData } from './job.js';
import { PREFIX, QUEUE_NAME, REFUSALS_KEY, commit, readCheckpointBytes, startAttempt } from './records.js';
import { startSlot, type Slot } from './training-slot.js';

export interface WorkerConfig {
  readonly url: string;
  /** Runs trained at once, each in its own process (default 1). */
  readonly concurrency?: number;
  /** Threads of each training process's native backend (OPTBENCH_THREADS). */
  readonly threads?: number;
  /** Train only runs of this backend (default: any the spec names, if it loads here). */
  readonly backend?: string;
  readonly dataDir?: string;
  readonly name?: string;
  /** BullMQ's lock on a job, renewed every half of it (default 30 s). */
  readonly lockDurationMs?: number;
  /** How often a worker looks for runs whose worker died (default 30 s). */
  readonly stalledIntervalMs?: number;
  /** Workers that may die on one run before it ends as WorkerLost (default 3). */
  readonly maxLost?: number;
  readonly log?: (line: string) => void;
}

export interface WorkerHandle {
  readonly name: string;
  /** Stops taking runs; runs in progress stop after their step and go back to the queue. */
  stop(): Promise<void>;
  /** Resolves with the exit code once the worker has stopped: 0 asked to stop, 1 refused a run. */
  readonly done: Promise<number>;
}

/** What a job's return value says (BullMQ keeps it with the completed job). */
export interface JobResult {
  readonly outcome: 'done' | 'failed' | 'paused';
  readonly epochs?: number;
}

const DEFAULT_MAX_LOST = 3;

/**
 * Whether a refusal is about the job (no worker of this kind could train it: a data set this worker does
 * not have under that name, a backend name that does not exist), not about this worker (its files differ,
 * its backend will not load here): the first fails the job, the second hands it back and stops the worker.
 */
export const aboutTheJob = (e: OptbenchError): boolean => e._tag === 'DatasetMissing' || (e._tag === 'UnknownName' && e.kind === 'backend');

export const startWorker = async (cfg: WorkerConfig): Promise<E.Either<OptbenchError, WorkerHandle>> => {
  const name = cfg.name ?? `${hostname()}:${process.pid}`;
  const log = cfg.log ?? ((line: string) => void process.stderr.write(`optbench worker ${name}: ${line}\n`));
  const connected = await connectRedis(cfg.url, { persistent: true, name: `optbench-worker-${name}` })();
  if (E.isLeft(connected)) return connected;
  const redis: Redis = connected.right;
  redis.on('error', (e: Error) => log(`Redis: ${e.message} (reconnecting)`));
  const maxLost = cfg.maxLost ?? DEFAULT_MAX_LOST;
  const identities = new Map<string, Promise<E.Either<OptbenchError, LocatedIdentity>>>();
  const free: Slot[] = [];
  const busy = new Set<Slot>();
  let stopping = false;
  let exitCode = 0;
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((r) => (resolveDone = r));

  const identity = (dataset: string) => {
    let p = identities.get(dataset);
    if (p === undefined) {
      p = dataIdentity({ dataset, ...(cfg.dataDir !== undefined ? { dir: cfg.dataDir } : {}) });
      identities.set(dataset, p);
    }
    return p;
  };

  const takeSlot = async (): Promise<Slot> => {
    let slot = free.pop();
    while (slot !== undefined && !slot.alive()) slot = free.pop();
    slot ??= await startSlot(cfg.threads, log);
    busy.add(slot);
    return slot;
  };
  const returnSlot = (slot: Slot): void => {
    busy.delete(slot);
    if (slot.alive() && !stopping) free.push(slot);
    else slot.kill();
  };

  /** Gives the job back to the queue untouched and stops this worker: it cannot train such runs. */
  const refuse = async (job: Job, token: string | undefined, label: string, error: OptbenchError): Promise<never> => {
    log(`refused run ${label}: ${error.message}`);
    await redis
      .multi()
      .rpush(REFUSALS_KEY, JSON.stringify({ runId: job.id, run: label, worker: name, message: error.message, at: new Date().toISOString() }))
      .ltrim(REFUSALS_KEY, -100, -1)
      .exec();
    exitCode = 1;
    await job.moveToWait(token);
    void shutdown();
    throw new WaitingError();
  };

  /** Fails the job (never retried) with the reason, and goes on serving: the refusal is about the job. */
  const failJob = async (job: Job, label: string, error: OptbenchError): Promise<never> => {
    log(`failed run ${label}: ${error.message}`);
    await redis
      .multi()
      .rpush(REFUSALS_KEY, JSON.stringify({ runId: job.id, run: label, worker: name, message: error.message, at: new Date().toISOString(), outcome: 'failed' }))
      .ltrim(REFUSALS_KEY, -100, -1)
      .exec();
    throw new UnrecoverableError(`Run ${label} cannot be trained: ${error.message}`);
  };

  const handBack = async (job: Job, token: string | undefined): Promise<never> => {
    await job.moveToWait(token);
    throw new WaitingError();
  };

  const processJob = async (job: Job, token: string | undefined): Promise<JobResult> => {
    if (stopping) return handBack(job, token);
    const decoded = decodeJob(job.id, job.data);
    if (E.isLeft(decoded)) {
      log(`rejected job ${String(job.id)}: ${decoded.left.message}`);
      throw new UnrecoverableError(decoded.left.message);
    }
    const data: JobData = decoded.right;
    const runId = job.id!;
    const label = runLabel(data.spec);
    if (cfg.backend !== undefined && cfg.backend !== 'auto' && cfg.backend !== data.spec.backend)
      return refuse(job, token, label, {
        _tag: 'InvalidConfig',
        path: 'backend',
        message: `run ${label} is for the ${data.spec.backend} backend and this worker trains only on ${cfg.backend}: start it with --backend ${data.spec.backend} (or without --backend).`,
      });
    const mine = await identity(data.data.name);
    if (E.isLeft(mine)) return aboutTheJob(mine.left) ? failJob(job, label, mine.left) : refuse(job, token, label, mine.left);
    const differs = compareIdentity(data.data, mine.right);
    if (differs !== null) return refuse(job, token, label, differs);

    const a = await startAttempt(redis, runId, name);
    if (a.terminal !== '') return { outcome: a.terminal === 'done' ? 'done' : 'failed' };
    if (a.lost >= maxLost) {
      const error = workerLost({
        attempts: a.lost,
        message: `Run ${label} was lost by ${a.lost} workers (killed or disconnected while training it); it is not tried again. Remove it with 'optbench queue clean' and run the command again to retry.`,
      });
      await commit(redis, runId, a.attempt, {
        kind: 'end',
        epochs: a.epochs,
        events: [{ type: 'RunFailed', runId, spec: data.spec, error, epochsDone: a.epochs }],
        outcome: 'failed',
      });
      log(`run ${label}: ${error.message}`);
      return { outcome: 'failed' };
    }
    const checkpoint = a.epochs > 0 ? await readCheckpointBytes(redis, runId) : null;
    const slot = await takeSlot();
    log(
      `run ${label} (${runId}): ${a.epochs > 0 ? `resuming after epoch ${a.epochs}` : 'starting'}${a.attempt > 1 ? `, attempt ${a.attempt}` : ''} in training process ${slot.pid}`,
    );
    try {
      const o = await slot.run({
        redis,
        runId,
        attempt: a.attempt,
        job: data,
        epochs: a.epochs,
        checkpoint,
        ...(cfg.dataDir !== undefined ? { dataDir: cfg.dataDir } : {}),
        progress: (e) => void job.updateProgress({ epoch: e.epoch, step: e.step, steps: e.steps, loss: e.loss, worker: name }).catch(() => undefined),
      });
      switch (o.kind) {
        case 'done':
        case 'failed':
          log(`run ${label}: ${o.kind}`);
          return { outcome: o.kind };
        case 'paused':
          log(`run ${label}: paused after epoch ${o.epochs}`);
          return { outcome: 'paused', epochs: o.epochs };
        case 'stopped':
          await commit(redis, runId, a.attempt, { kind: 'handback' });
          log(`run ${label}: stopped after its current step, back in the queue`);
          return handBack(job, token);
        case 'refused':
          await commit(redis, runId, a.attempt, { kind: 'handback' });
          return aboutTheJob(o.error) ? failJob(job, label, o.error) : refuse(job, token, label, o.error);
        case 'fenced':
          throw new Error(`run ${label} was taken over by another worker`);
        case 'crashed':
          // Not handed back cleanly: counts as a lost attempt.
          log(`run ${label}: the training process died (${o.why}); the run goes back to the queue`);
          return handBack(job, token);
      }
    } finally {
      returnSlot(slot);
    }
  };

  const worker = new Worker(QUEUE_NAME, processJob, {
    connection: redis,
    prefix: PREFIX,
    name,
    concurrency: cfg.concurrency ?? 1,
    lockDuration: cfg.lockDurationMs ?? 30_000,
    stalledInterval: cfg.stalledIntervalMs ?? 30_000,
    // A run whose worker died is counted (and given up) by startAttempt, which also sees training processes
    // that died: BullMQ only has to put the job back.
    maxStalledCount: 1_000_000,
    removeOnComplete: { count: 1_000_000 },
    removeOnFail: { count: 1_000_000 },
  });
  worker.on('error', (e) => log(`queue: ${e.message}`));

  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> =>
    (shuttingDown ??= (async () => {
      stopping = true;
      for (const s of busy) s.stop();
      await worker.close();
      for (const s of [...free, ...busy]) s.kill();
      redis.disconnect();
      resolveDone(exitCode);
    })());

  log(`waiting for runs on ${redactUrl(cfg.url)} (${cfg.concurrency ?? 1} at a time)`);
  return E.right({ name, stop: shutdown, done });
};



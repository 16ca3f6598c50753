/**
 * The queue as a RunTrainer: a run goes to Redis as a job (its id is the run's id, so submitting it twice
 * trains it once) and comes back as the RunEvents its workers recorded, replayed from the start, so a
 * coordinator that was away (Ctrl-C, a crash) collects everything on its next attach.
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { Observable } from 'rxjs';
import { runId as specId, runLabel, type RunSpec } from '../config/spec.js';
import { reportErrors } from '../config/spec.js';
import type { Dataset } from '../data/types.js';
import { interrupted, queueError, toOptbenchError, workerLost, type OptbenchError } from '../errors.js';
import type { EvaluateOptions } from '../train/evaluate.js';
import type { RunTrainer } from '../train/trainer.js';
import { RunEvent as RunEventCodec, type RunEvent } from '../train/events.js';
import type { QueueClient } from './client.js';
import { queuePriority } from './cost.js';
import { dataIdentity } from './data-identity.js';
import { jobFor, type DataIdentity, type JobFitOptions } from './job.js';
import { runKeys } from './records.js';

export interface QueueTrainerOptions {
  /** How often workers report live progress. */
  readonly fit?: JobFitOptions;
  /** Polled often: when true, runs stop being followed (their jobs stay queued or running). */
  readonly shouldStop?: () => boolean;
  /** How often the job itself is checked (removed, failed by BullMQ), ms. */
  readonly checkEveryMs?: number;
  readonly log?: (line: string) => void;
}

const identities = new Map<string, Promise<E.Either<OptbenchError, DataIdentity>>>();

/** The identity (name, MD5s) of the data set a coordinator loaded, computed once per directory. */
export const identityOf = (data: Pick<Dataset, 'name' | 'dir'>): Promise<E.Either<OptbenchError, DataIdentity>> => {
  const key = `${data.name}\u0000${data.dir}`;
  let p = identities.get(key);
  if (p === undefined) {
    p = dataIdentity({ dataset: data.name, dir: data.dir }).then(E.map((l) => l.identity));
    identities.set(key, p);
  }
  return p;
};

export interface SubmitOptions {
  readonly fit?: JobFitOptions;
  /** Evaluate on the worker with these options (null: training metrics only). */
  readonly evaluation?: EvaluateOptions | null;
  /** Train up to this epoch (an ASHA rung), default all the spec's epochs. */
  readonly untilEpoch?: number;
}

/**
 * Puts runs on the queue (longest first, by priority), each unless it is there already. A job BullMQ
 * itself failed (not a run that failed: that is a completed job with its RunFailed) is retried; a run
 * paused at an earlier rung is sent on to `untilEpoch`.
 */
export const submitRuns = async (client: QueueClient, specs: readonly RunSpec[], data: DataIdentity, opts: SubmitOptions = {}): Promise<void> => {
  for (const spec of specs) {
    const id = specId(spec);
    const job = jobFor(spec, data, opts);
    const existing = await client.queue.getJob(id);
    if (existing !== undefined) {
      let state = await existing.getState();
      // A rung's pause is recorded just before its job completes: wait for that, then send it on.
      const pausedAt = (existing.data as { untilEpoch?: number }).untilEpoch;
      for (let i = 0; state === 'active' && pausedAt !== undefined && (opts.untilEpoch ?? spec.epochs) > pausedAt && i < 600; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await existing.getState();
      }
      const current = (await client.queue.getJob(id)) ?? existing;
      if (state === 'failed') await current.retry('failed');
      const was = (current.data as { untilEpoch?: number }).untilEpoch ?? spec.epochs;
      const wants = job.untilEpoch ?? spec.epochs;
      if (state === 'completed' && (current.returnvalue as { outcome?: string } | null)?.outcome === 'paused' && wants > was) {
        await current.updateData(job);
        await current.retry('completed');
      }
      continue;
    }
    await client.queue.add('run', job, { jobId: id, priority: queuePriority(spec) });
  }
};

/**
 * An event of the run's record in Redis, decoded by RunEvent's codec: Right(null) for an entry that is no
 * event, Left naming what is wrong (the field's path) for one that does not decode or is another run's.
 */
const parseEvent = (runId: string, fields: readonly string[], url: string): E.Either<OptbenchError, RunEvent | null> => {
  const i = fields.indexOf('e');
  if (i < 0 || i + 1 >= fields.length) return E.right(null);
  const bad = (why: string) => queueError({ url, message: `The queue's record of run ${runId} holds ${why}: clean it (optbench queue clean) and run the command again.` });
  return pipe(
    E.tryCatch(() => JSON.parse(fields[i + 1]!) as unknown, () => bad('an entry that is not JSON')),
    E.flatMap((raw) => pipe(RunEventCodec.decode(raw), E.mapLeft((errs) => bad(`an event that does not decode (${reportErrors(errs, 'event').message})`)))),
    E.flatMap((e) => (e.runId === runId ? E.right(e) : E.left(bad(`an event of run ${e.runId}`)))),
  );
};

/**
 * Where to follow a run's record from: its start, or, for a run paused at an earlier rung and now sent
 * further, just after that pause, so that (as a local resume does) it reports only the epochs trained now.
 */
const resumePoint = async (client: QueueClient, key: string, untilEpoch: number): Promise<string> => {
  const entries = await client.redis.xrange(key, '-', '+');
  let from = '0';
  for (const [id, fields] of entries) {
    const i = fields.indexOf('e');
    try {
      const e = JSON.parse(fields[i + 1] ?? 'null') as { type?: string; epochsDone?: number } | null;
      if (e?.type === 'RunPaused' && (e.epochsDone ?? 0) < untilEpoch) from = id;
    } catch {
      // Not an event: skipped when followed too.
    }
  }
  return from;
};

/**
 * A RunTrainer whose runs are trained by the queue's workers, with the run's context as data in its job
 * (`ctx.evaluation`: the worker evaluates where the model is; `ctx.untilEpoch`: an ASHA rung). The
 * Observable replays what the workers recorded of the run (RunStarted, EpochEnded..., then RunEnded,
 * RunFailed, or the RunPaused of this rung), passes live BatchEnded on, and completes with that event. With `shouldStop`, a run already started ends with
 * RunFailed{Interrupted} after the epochs received so far; its job stays on the queue.
 */
export const queueTrainer =
  (client: QueueClient, opts: QueueTrainerOptions = {}): RunTrainer =>
  (spec, data, ctx) =>
    new Observable<RunEvent>((subscriber) => {
      const id = specId(spec);
      const keys = runKeys(id);
      let started = false;
      let epochsSeen = 0;
      let closed = false;
      const unfollow: (() => void)[] = [];
      const timers: NodeJS.Timeout[] = [];
      const end = (last?: RunEvent): void => {
        if (closed) return;
        if (last !== undefined) subscriber.next(last);
        closed = true;
        subscriber.complete();
      };
      const fail = (error: OptbenchError): void => end({ type: 'RunFailed', runId: id, spec, error, epochsDone: epochsSeen });

      const onRecorded = (entries: readonly [string, string[]][]): void => {
        for (const [, fields] of entries) {
          if (closed) return;
          const parsed = parseEvent(id, fields, client.url.shown);
          if (E.isLeft(parsed)) return fail(parsed.left);
          const e = parsed.right;
          if (e === null) continue;
          if (e.type === 'RunStarted') {
            started = true;
            epochsSeen = e.fromEpoch;
            subscriber.next({ ...e, index: ctx.index, total: ctx.total });
          } else if (e.type === 'EpochEnded') {
            epochsSeen = e.epoch;
            subscriber.next(e);
          } else if (e.type === 'RunEnded' || e.type === 'RunFailed') end(e);
          else if (e.type === 'RunPaused') {
            // An earlier rung's pause is history; this rung's ends the run here.
            if (e.epochsDone >= ctx.untilEpoch) end(e);
          } else subscriber.next(e);
        }
      };
      const onLive = (entries: readonly [string, string[]][]): void => {
        const last = entries[entries.length - 1];
        // Live progress is for eyes only: an entry that does not decode is not shown.
        const e = last ? E.getOrElseW(() => null)(parseEvent(id, last[1], client.url.shown)) : null;
        if (!closed && started && e !== null && e.type === 'BatchEnded' && e.epoch > epochsSeen) subscriber.next(e);
      };

      const check = async (): Promise<void> => {
        const job = await client.queue.getJob(id);
        if (closed) return;
        if (job === undefined) return fail(queueError({ url: client.url.shown, message: `The job of run ${runLabel(spec)} (${id}) was removed from the queue before it ended: run the same command again to submit it anew.` }));
        if ((await job.getState()) === 'failed' && !closed) {
          const reason = job.failedReason ?? 'unknown';
          fail(
            /stalled|started more than/.test(reason)
              ? workerLost({ attempts: job.stalledCounter ?? 0, message: `Run ${runLabel(spec)} was lost by its workers (${reason}).` })
              : queueError({ url: client.url.shown, message: `The queue failed run ${runLabel(spec)}: ${reason}` }),
          );
        }
      };

      void (async () => {
        const identity = await identityOf(data);
        if (E.isLeft(identity)) return subscriber.error(identity.left);
        await submitRuns(client, [spec], identity.right, { fit: opts.fit ?? {}, evaluation: ctx.evaluation, untilEpoch: ctx.untilEpoch });
        if (closed) return;
        unfollow.push(client.tail.follow(keys.events, await resumePoint(client, keys.events, ctx.untilEpoch), onRecorded));
        unfollow.push(client.tail.follow(keys.live, '$', onLive));
        timers.push(
          setInterval(() => {
            if (opts.shouldStop?.()) {
              if (started) fail(interrupted(`Stopped following run ${runLabel(spec)} after epoch ${epochsSeen}; its job stays on the queue and the same command collects it.`));
              else end();
            }
          }, 100),
          setInterval(() => void check().catch(() => undefined), opts.checkEveryMs ?? 5000),
        );
      })().catch((e: unknown) => {
        if (!closed) subscriber.error(toOptbenchError(e));
      });

      return () => {
        closed = true;
        unfollow.forEach((u) => u());
        timers.forEach((t) => clearInterval(t));
      };
    });


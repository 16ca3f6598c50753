/**
 * One of a worker's training processes, and how a run's events and checkpoints from it become commits
 * in Redis: RunStarted at once, each EpochEnded together with the checkpoint after it, the last epoch
 * together with RunEnded (or a failure with what it completed). Commits go one after another, in order.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { OptbenchError } from '../errors.js';
import type { EpochEnded, RunEvent } from '../train/events.js';
import type { JobData } from './job.js';
import { commit, publishLive, type Commit } from './records.js';
import { FromTrainer, type ToTrainer } from './ipc.js';
import * as E from 'fp-ts/lib/Either.js';
import { reportErrors } from '../config/spec.js';

/** How a run on a slot ended. */
export type SlotOutcome =
  | { readonly kind: 'done' | 'failed' }
  /** Stopped after `untilEpoch` (ASHA's rung): handed back, continues if promoted. */
  | { readonly kind: 'paused'; readonly epochs: number }
  /** Stopped because the worker is stopping (SIGINT/SIGTERM): handed back to the queue. */
  | { readonly kind: 'stopped' }
  /** The training process could not take the run (backend or data would not load). */
  | { readonly kind: 'refused'; readonly error: OptbenchError }
  /** Another attempt took the run: this one's writes were refused. */
  | { readonly kind: 'fenced' }
  /** The training process died. */
  | { readonly kind: 'crashed'; readonly why: string };

const here = fileURLToPath(import.meta.url);
/** The training process's entry: beside this file, .ts under tsx (tests) and .js when built. */
const TRAIN_PROCESS = here.replace(/training-slot(\.[cm]?[jt]s)$/, `train-process${extname(here)}`);

export interface Slot {
  readonly pid: number | undefined;
  /** Trains one run to its end (or until stopped); resolves with how it ended. */
  run(args: RunArgs): Promise<SlotOutcome>;
  /** Asks the run in progress to stop after its current step. */
  stop(): void;
  kill(): void;
  readonly alive: () => boolean;
}

export interface RunArgs {
  readonly redis: Redis;
  readonly runId: string;
  readonly attempt: number;
  readonly job: JobData;
  readonly epochs: number;
  readonly checkpoint: Buffer | null;
  readonly dataDir?: string;
  /** Live progress (at most every `progressEveryMs`): the latest BatchEnded. */
  readonly progress: (e: Extract<RunEvent, { type: 'BatchEnded' }>) => void;
}

export const startSlot = (threads: number | undefined, log: (line: string) => void): Promise<Slot> =>
  new Promise((resolve, reject) => {
    const proc: ChildProcess = fork(TRAIN_PROCESS, [], {
      env: { ...process.env, ...(threads !== undefined ? { OPTBENCH_THREADS: String(threads) } : {}) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let exited: string | null = null;
    let onExit: ((why: string) => void) | null = null;
    proc.on('exit', (code, signal) => {
      exited = signal !== null ? `signal ${signal}` : `exit code ${code}`;
      onExit?.(exited);
    });
    const send = (m: ToTrainer): void => {
      if (proc.connected) proc.send(m);
    };
    proc.once('message', (raw: unknown) => {
      const m = FromTrainer.decode(raw);
      if (E.isLeft(m) || m.right.type !== 'ready') return reject(new Error('the training process said something else before it was ready'));
      resolve(slot);
    });
    proc.once('error', reject);
    const early = (code: number | null): void => reject(new Error(`the training process exited (code ${code}) before it was ready`));
    proc.once('exit', early);

    const slot: Slot = {
      pid: proc.pid,
      alive: () => exited === null,
      stop: () => send({ type: 'stop' }),
      kill: () => void proc.kill('SIGKILL'),
      run: (a) =>
        new Promise<SlotOutcome>((done) => {
          proc.off('exit', early);
          let pending: EpochEnded | null = null;
          let outcome: SlotOutcome | null = null;
          let fenced = false;
          let chain: Promise<void> = Promise.resolve();
          let lastLive = 0;
          const every = a.job.fit.progressEveryMs ?? 1000;
          const write = (c: Commit): Promise<boolean> => {
            const next = chain.then(async () => {
              if (fenced) return false;
              const r = await commit(a.redis, a.runId, a.attempt, c);
              if (r === 'ok') return true;
              fenced = true;
              log(`run ${a.runId}: ${r === 'fenced' ? 'another worker has taken this run over' : 'its epochs are out of order'}; stopping it here`);
              send({ type: 'stop' });
              return false;
            });
            chain = next.then(
              () => undefined,
              (e: unknown) => {
                // Redis refused or is gone for good: stop here; the run is handed on by the queue.
                fenced = true;
                log(`run ${a.runId}: cannot record its progress (${e instanceof Error ? e.message : String(e)}); stopping it here`);
                send({ type: 'stop' });
              },
            );
            return next.catch(() => false);
          };
          const finish = (o: SlotOutcome): void => {
            proc.off('message', onMessage);
            onExit = null;
            void chain.then(() => done(fenced ? { kind: 'fenced' } : o));
          };
          const onEvent = (e: RunEvent): void => {
            switch (e.type) {
              case 'RunStarted':
                void write({ kind: 'started', fromEpoch: e.fromEpoch, events: [e] });
                return;
              case 'BatchEnded':
                if (Date.now() - lastLive >= every || e.step === e.steps) {
                  lastLive = Date.now();
                  a.progress(e);
                  publishLive(a.redis, a.runId, e).catch(() => undefined);
                }
                return;
              case 'EpochEnded':
                pending = e;
                return;
              case 'RunEnded':
                void write({ kind: 'end', epochs: a.job.spec.epochs, events: [...(pending ? [pending] : []), e], outcome: 'done' });
                pending = null;
                outcome = { kind: 'done' };
                return;
              case 'RunPaused':
                void write({ kind: 'pause', events: [...(pending ? [pending] : []), e] });
                pending = null;
                outcome = { kind: 'paused', epochs: e.epochsDone };
                return;
              case 'RunFailed':
                if (e.error._tag === 'Interrupted') {
                  outcome = { kind: 'stopped' };
                  return;
                }
                void write({
                  kind: 'end',
                  epochs: e.epochsDone,
                  events: [...(pending && pending.epoch <= e.epochsDone ? [pending] : []), e],
                  outcome: 'failed',
                });
                pending = null;
                outcome = { kind: 'failed' };
            }
          };
          const onMessage = (raw: unknown): void => {
            const decoded = FromTrainer.decode(raw);
            if (E.isLeft(decoded)) {
              proc.kill('SIGKILL');
              return finish({ kind: 'crashed', why: `it sent a message that does not decode (${reportErrors(decoded.left, 'message').message})` });
            }
            const m = decoded.right;
            switch (m.type) {
              case 'event':
                return onEvent(m.event);
              case 'checkpoint': {
                const events = pending ? [pending] : [];
                pending = null;
                void write({ kind: 'epoch', epoch: m.epoch, events, checkpoint: Buffer.from(m.bytes) }).then((ok) =>
                  send({ type: 'saved', epoch: m.epoch, ok }),
                );
                return;
              }
              case 'refuse':
                outcome = { kind: 'refused', error: m.error };
                return finish(outcome);
              case 'finished':
                return finish(outcome ?? { kind: 'crashed', why: 'it ended the run without an outcome' });
            }
          };
          proc.on('message', onMessage);
          onExit = (why) => finish({ kind: 'crashed', why });
          if (exited !== null) return finish({ kind: 'crashed', why: exited });
          send({
            type: 'train',
            job: a.job,
            checkpoint: a.checkpoint,
            epochs: a.epochs,
            ...(a.dataDir !== undefined ? { dataDir: a.dataDir } : {}),
          });
        }),
    };
  });

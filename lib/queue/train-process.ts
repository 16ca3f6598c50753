/**
 * A worker's training process: one run at a time, as the worker (its parent, over IPC) asks. Training
 * happens here so that the worker's own event loop stays free to renew its BullMQ locks while a native
 * kernel holds this one for seconds. This process touches no Redis: it sends its events and checkpoints
 * to the worker, which commits them, and it exits as soon as the worker is gone.
 */
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { concatMap, defer, from, lastValueFrom, of, tap } from 'rxjs';
import { pipe } from 'fp-ts/lib/function.js';
import { useBackend } from '../backend/index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../store/checkpoint.js';
import { captureState, restoreState } from '../store/checkpointer.js';
import { loadDataset } from '../data/load.js';
import type { Dataset } from '../data/types.js';
import { reportErrors, runId } from '../config/spec.js';
import { internalError, toOptbenchError, type OptbenchError } from '../errors.js';
import type { RunEvent } from '../train/events.js';
import { runFit, type Checkpointer } from '../train/fit.js';
import { builtInRuntime } from '../train/runtime.js';
import { evaluatedHere } from '../train/trainer.js';
import { ToTrainer, type FromTrainer } from './ipc.js';
import { raise } from '../observable.js';

export type { FromTrainer, ToTrainer } from './ipc.js';

const send = (m: FromTrainer): void => {
  process.send?.(m);
};

let stop = false;
const datasets = new Map<string, Dataset>();
const savedAcks = new Map<number, (ok: boolean) => void>();

/** Checkpoints travel to the worker, which commits each with its epoch; training waits for the commit. */
const ipcCheckpointer = (start: Buffer | null, committedEpochs: number, warn: (m: string) => void): Checkpointer => ({
  restore: (runId, model, optimizer) =>
    defer(() => {
      if (start === null || committedEpochs === 0) return of(0);
      const ckpt = decodeCheckpoint(`the queue's checkpoint of run ${runId}`, runId, start);
      if (E.isLeft(ckpt)) {
        warn(ckpt.left.message);
        return of(0);
      }
      if (ckpt.right.epoch !== committedEpochs) {
        warn(`the queue's checkpoint of run ${runId} is after epoch ${ckpt.right.epoch} but ${committedEpochs} are stored; the run restarts from its first epoch.`);
        return of(0);
      }
      return from(restoreState(ckpt.right, model, optimizer, warn));
    }),
  save: (runId, epoch, model, optimizer) =>
    defer(() => from(captureState(runId, epoch, model, optimizer))).pipe(
      concatMap((state) =>
        pipe(
          encodeCheckpoint(state),
          E.match(
            (e) => raise( e),
            (bytes) =>
              from(
                new Promise<boolean>((resolve) => {
                  savedAcks.set(epoch, resolve);
                  send({ type: 'checkpoint', epoch, bytes });
                }),
              ),
          ),
        ),
      ),
      concatMap((ok) =>
        ok ? of(undefined) : raise(internalError(`The worker could not store the checkpoint of epoch ${epoch} of run ${runId}.`)),
      ),
    ),
  // The worker removes the checkpoint with the run's last commit.
  discard: () => of(undefined),
});

const loadData = async (name: string, dir: string | undefined): Promise<E.Either<OptbenchError, Dataset>> => {
  const cached = datasets.get(name);
  if (cached) return E.right(cached);
  const loaded = await loadDataset({ dataset: name, ...(dir !== undefined ? { dir } : {}) });
  if (E.isRight(loaded)) datasets.set(name, loaded.right);
  return loaded;
};

const train = async (m: Extract<ToTrainer, { type: 'train' }>): Promise<void> => {
  stop = false;
  const { job } = m;
  const backend = await useBackend(job.spec.backend);
  if (E.isLeft(backend)) return send({ type: 'refuse', error: backend.left });
  const data = await loadData(job.data.name, m.dataDir);
  if (E.isLeft(data)) return send({ type: 'refuse', error: data.left });
  const warn = (msg: string): void => void process.stderr.write(`optbench worker: ${msg}\n`);
  const checkpoint = m.checkpoint === null ? null : Buffer.from(m.checkpoint.buffer, m.checkpoint.byteOffset, m.checkpoint.byteLength);
  await lastValueFrom(
    // What localTrainer does, with the job's context: evaluated here, where the model is.
    runFit(job.spec, data.right, {
      runtime: builtInRuntime(),
      checkpointer: ipcCheckpointer(checkpoint, m.epochs, warn),
      shouldStop: () => stop,
      untilEpoch: job.untilEpoch ?? job.spec.epochs,
      ...(job.fit.progressEveryMs !== undefined ? { progressEveryMs: job.fit.progressEveryMs } : {}),
    }).pipe(
      evaluatedHere({ index: 1, total: 1, evaluation: job.evaluation, untilEpoch: job.untilEpoch ?? job.spec.epochs }),
      tap((event) => send({ type: 'event', event })),
    ),
    { defaultValue: undefined },
  );
  send({ type: 'finished' });
};

process.on('message', (raw: unknown) => {
  const decoded = ToTrainer.decode(raw);
  if (E.isLeft(decoded)) {
    // The worker sent what this process does not understand: a bug or another version; it stops here.
    process.stderr.write(`optbench worker: the training process got a message it cannot read (${reportErrors(decoded.left, 'message').message}); it exits.\n`);
    process.exit(1);
  }
  const m = decoded.right;
  if (m.type === 'stop') stop = true;
  else if (m.type === 'saved') {
    savedAcks.get(m.epoch)?.(m.ok);
    savedAcks.delete(m.epoch);
  } else if (m.type === 'train')
    train(m).catch((e: unknown) => {
      send({ type: 'event', event: { type: 'RunFailed', runId: runId(m.job.spec), spec: m.job.spec, error: toOptbenchError(e), epochsDone: 0 } });
      send({ type: 'finished' });
    });
});
// The worker decides when training stops (Ctrl-C reaches the whole process group): ignore signals here.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
// A worker that died (SIGKILL, a lost machine) leaves no one to commit to: stop at once.
process.on('disconnect', () => process.exit(0));
// As the CLI does: no debug checks, and no banner on stderr.
tf.env().set('PROD', true);
send({ type: 'ready' });

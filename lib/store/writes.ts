/** Persisting a run's events, each in one transaction, and recording the files written for it. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { runLabel } from '../config/spec.js';
import type { BatchEnded, RunEvent, RunStarted, EpochEnded, RunEnded, RunFailed } from '../train/events.js';
import { pausedError } from '../train/record.js';
import type { TargetReached } from '../train/target.js';
import type { R, StoreContext } from './context.js';
import type { Leases } from './leases.js';
import { ArtifactDbRow, artifactRow, decodeRow, errorJson, holder } from './rows.js';
import type { ArtifactInput, ArtifactRow, StoreStatus } from './types.js';

/** What the store keeps of a pipeline's events: every run event, and when a run first reached its target. */
export type StoredEvent = RunEvent | TargetReached;

interface Writes {
  writeEvent(e: StoredEvent): R<void>;
  recordArtifact(a: ArtifactInput): R<ArtifactRow>;
}

export const writes = (ctx: StoreContext, lease: Leases): Writes => {
  const { q, owner, now, iso, heartbeatEveryMs, progressEveryMs, versions, lastBeat, attempt, tx } = ctx;
  // A training run's heartbeat carries its step, so it beats as often as the step is to be seen.
  const batchBeatMs = Math.min(heartbeatEveryMs, progressEveryMs);

  const versionParams = () => ({ optbench: versions.optbench, tfjs: versions.tfjs, node: versions.node });

  const writeStarted = (e: RunStarted): R<void> =>
    tx(`recording the start of run ${e.runId}`, () =>
      pipe(
        lease.holderRow(e.runId),
        E.flatMap((row) => (row !== undefined && lease.heldByAnother(row) ? E.left(lease.busyError(e.runId, holder(row))) : E.right(undefined))),
        E.map(() => {
          q.startRun.run({
            ...ctx.ownerParams(),
            ...versionParams(),
            id: e.runId,
            label: runLabel(e.spec),
            spec: JSON.stringify(e.spec),
            backend: e.backend,
            parameters: e.parameters,
            steps: e.steps,
            epochs: e.spec.epochs,
            startedAt: e.startedAt,
          });
          // Epochs after the resume point were trained past the last checkpoint: they are trained again, and
          // a target reached in one of them is reached (or not) again.
          q.trimEpochs.run(e.runId, e.fromEpoch);
          q.trimTargets.run(e.runId, e.fromEpoch);
          q.dropResult.run(e.runId);
          lastBeat.set(e.runId, now());
        }),
      ),
    );

  const writeEpoch = (e: EpochEnded): R<void> =>
    tx(`recording epoch ${e.epoch} of run ${e.runId}`, () => {
      const why = lease.notHeld(e.runId, `epoch ${e.epoch}`);
      if (why !== null) return E.left(why);
      const p = ctx.ownerParams();
      q.touch.run({ id: e.runId, token: owner.token, now: p.now, beat: p.beat });
      q.putEpoch.run({
        id: e.runId,
        epoch: e.epoch,
        trainLoss: e.train.loss,
        trainAcc: e.train.accuracy,
        testLoss: e.test?.loss ?? null,
        testAcc: e.test?.accuracy ?? null,
        valLoss: e.validation?.loss ?? null,
        valAcc: e.validation?.accuracy ?? null,
        trainMs: e.trainMs,
        evalMs: e.evalMs,
        now: p.now,
      });
      lastBeat.set(e.runId, p.beat);
      return E.right(undefined);
    });

  const writeEnded = (e: RunEnded): R<void> =>
    tx(`recording the results of run ${e.runId}`, () => {
      const why = lease.notHeld(e.runId, 'the results');
      if (why !== null) return E.left(why);
      const t = iso();
      q.putResult.run({
        id: e.runId,
        testLoss: e.final?.testLoss ?? null,
        testAcc: e.final?.testAccuracy ?? null,
        confusion: e.confusion === null ? null : JSON.stringify(e.confusion),
        vae: e.vae === null ? null : JSON.stringify(e.vae),
        now: t,
      });
      q.finish.run({ id: e.runId, status: 'done', error: null, trainMs: e.trainMs, evalMs: e.evalMs, now: t });
      lastBeat.delete(e.runId);
      return E.right(undefined);
    });

  const writeFailed = (e: RunFailed): R<void> =>
    tx(`recording the failure of run ${e.runId}`, () => {
      const t = iso();
      return pipe(
        lease.holderRow(e.runId),
        E.flatMap((row): R<void> => {
          if (row === undefined) {
            // A run can fail before it starts (a bad spec, a backend that will not load): keep why.
            q.insertFailed.run({
              ...versionParams(),
              id: e.runId,
              label: runLabel(e.spec),
              spec: JSON.stringify(e.spec),
              error: errorJson(e.error),
              backend: e.spec.backend,
              epochs: e.spec.epochs,
              host: owner.host,
              pid: owner.pid,
              now: t,
            });
            return E.right(undefined);
          }
          if (lease.heldByAnother(row)) return E.left(lease.busyError(e.runId, holder(row)));
          const status: StoreStatus = e.error._tag === 'Interrupted' ? 'interrupted' : 'failed';
          q.finish.run({ id: e.runId, status, error: errorJson(e.error), trainMs: null, evalMs: null, now: t });
          // Epochs past epochsDone were never completed; keep the store's epochs consistent with the failure.
          q.trimEpochs.run(e.runId, e.epochsDone);
          q.trimTargets.run(e.runId, e.epochsDone);
          lastBeat.delete(e.runId);
          return E.right(undefined);
        }),
      );
    });

  const writeTarget = (e: TargetReached): R<void> =>
    tx(`recording that run ${e.runId} reached its target`, () => {
      const why = lease.notHeld(e.runId, `its target (epoch ${e.epoch})`);
      if (why !== null) return E.left(why);
      const { metric, goal, value, epoch, step, seconds } = e;
      q.putTarget.run({ id: e.runId, metric, goal, value, epoch, step, seconds, now: iso() });
      return E.right(undefined);
    });

  /**
   * BatchEnded is the run's heartbeat: at most every heartbeatEveryMs or progressEveryMs, whichever is
   * shorter, one UPDATE renews the lease and records the epoch and step the run is at (nothing is written
   * for the BatchEnded in between). It fails when the run was lost.
   */
  const writeBatch = (e: BatchEnded): R<void> => {
    const last = lastBeat.get(e.runId);
    if (last === undefined || now() - last < batchBeatMs) return E.right(undefined);
    return pipe(
      lease.heartbeat(e.runId, { epoch: e.epoch, step: e.step }),
      // A lease that was not renewed is another's now, or expired: say which.
      E.flatMap((renewed) => (renewed ? E.right(null) : attempt('checking who holds the run', () => E.right(lease.notHeld(e.runId, `step ${e.step}`))))),
      E.flatMap((why) => (why === null ? E.right(undefined) : E.left(why))),
    );
  };

  const writeEvent = (e: StoredEvent): R<void> => {
    switch (e.type) {
      case 'TargetReached':
        return writeTarget(e);
      case 'RunStarted':
        return writeStarted(e);
      case 'EpochEnded':
        return writeEpoch(e);
      case 'RunEnded':
        return writeEnded(e);
      case 'RunFailed':
        return writeFailed(e);
      case 'RunPaused':
        // Paused is resumable, as interrupted is: the store keeps it so, with why.
        return writeFailed({ type: 'RunFailed', runId: e.runId, spec: e.spec, error: pausedError(e), epochsDone: e.epochsDone });
      case 'BatchEnded':
        return writeBatch(e);
    }
  };

  const recordArtifact = (a: ArtifactInput): R<ArtifactRow> =>
    attempt(`recording artifact ${a.path}`, () => {
      let bytes = a.bytes;
      let sha256 = a.sha256;
      if (bytes === undefined || sha256 === undefined) {
        const data = readFileSync(a.path);
        bytes ??= data.length;
        sha256 ??= createHash('sha256').update(data).digest('hex');
      }
      const r = q.putArtifact.get({ runId: a.runId, kind: a.kind, path: a.path, bytes, sha256, now: iso() });
      return E.map(artifactRow)(decodeRow(ArtifactDbRow, ctx.file, 'artifacts')(r));
    });

  return { writeEvent, recordArtifact };
};

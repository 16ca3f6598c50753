/**
 * Which process may write a run: claims, heartbeats and releases. A run is held by one open Store (its owner
 * token) until it finishes or is released, or until its holder is gone (see `holds`).
 */
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import { runLabel, type RunSpec } from '../config/spec.js';
import { storeError, type OptbenchError } from '../errors.js';
import type { R, StoreContext } from './context.js';
import { holds, type Holder } from './owner.js';
import { decodeHolder, holder, type HolderDbRow } from './rows.js';
import type { Claim, StoreStatus } from './types.js';

/** The epoch under way (1-based) and its last step done. */
export interface StepAt {
  readonly epoch: number;
  readonly step: number;
}

export interface Leases {
  /** Another live process holds this run (the store must not write it). */
  heldByAnother(row: HolderDbRow): boolean;
  /** The run's holder row as stored (undefined: no such run), decoded. */
  holderRow(runId: string): R<HolderDbRow | undefined>;
  busyError(runId: string, h: Holder): OptbenchError;
  /** Why this store may not write run `runId`, or null when it holds it. */
  notHeld(runId: string, doing: string): OptbenchError | null;
  claimRun(runId: string, spec: RunSpec): R<Claim>;
  /** Renews the lease; with `at`, also records where the run is inside its epoch (RunRow.progress). */
  heartbeat(runId: string, at?: StepAt): R<boolean>;
  releaseRun(runId: string): R<void>;
  markInterrupted(runId: string): R<void>;
  interruptOwned(): R<readonly string[]>;
}

export const leases = (ctx: StoreContext): Leases => {
  const { file, q, owner, now, iso, leaseMs, lastBeat, attempt, tx } = ctx;

  const holderRow = (runId: string): R<HolderDbRow | undefined> => decodeHolder(file)(q.holder.get(runId));

  const heldByAnother = (row: HolderDbRow): boolean => {
    const h = holder(row);
    return h.token !== owner.token && holds(h, owner, now(), leaseMs);
  };

  const busyError = (runId: string, h: Holder): OptbenchError =>
    storeError({
      file,
      message:
        `Run ${runId} is being trained by another optbench process (pid ${h.pid ?? '?'} on ${h.host ?? '?'}). ` +
        `Let it finish, or stop it and run the same command again.`,
    });

  const notHeld = (runId: string, doing: string): OptbenchError | null => {
    const read = holderRow(runId);
    if (E.isLeft(read)) return read.left;
    const row = read.right;
    if (row === undefined)
      return storeError({
        file,
        message:
          `Cannot record ${doing} for run ${runId}: the store has no such run (its RunStarted event was not ` +
          `written). This is a bug in the pipeline: persist() must see every event of a run.`,
      });
    const h = holder(row);
    if (h.token === owner.token) return null;
    return h.token !== null && holds(h, owner, now(), leaseMs)
      ? busyError(runId, h)
      : storeError({
          file,
          message:
            `Cannot record ${doing} for run ${runId}: this process no longer holds the run (its lease expired). ` +
            `Run the same command again to resume it.`,
        });
  };

  const claimRun = (runId: string, spec: RunSpec): R<Claim> =>
    tx(`claiming run ${runId}`, () =>
      pipe(
        holderRow(runId),
        E.map((row): Claim => {
          const p = ctx.ownerParams();
          if (row === undefined) {
            q.insertClaim.run({ ...p, id: runId, label: runLabel(spec), spec: JSON.stringify(spec), epochs: spec.epochs });
            lastBeat.set(runId, p.beat);
            return 'claimed';
          }
          if (row.status === 'done') return 'done';
          if (heldByAnother(row)) return 'busy';
          // A run left `running` by a holder that is gone was interrupted, whatever its process said last.
          const status: StoreStatus = row.status === 'running' && row.owner_token !== owner.token ? 'interrupted' : row.status;
          q.takeClaim.run({ ...p, id: runId, status });
          lastBeat.set(runId, p.beat);
          return 'claimed';
        }),
      ),
    );

  const heartbeat = (runId: string, at?: StepAt): R<boolean> =>
    attempt(`renewing the lease on run ${runId}`, () => {
      const beat = now();
      const row = { id: runId, token: owner.token, beat };
      const changed = (at === undefined ? q.beat.run(row) : q.beatAt.run({ ...row, epoch: at.epoch, step: at.step })).changes > 0;
      if (changed) lastBeat.set(runId, beat);
      return E.right(changed);
    });

  const release = (runId: string, interrupt: boolean): R<void> =>
    attempt(`releasing run ${runId}`, () => {
      q.release.run({ id: runId, token: owner.token, interrupt: interrupt ? 1 : 0, now: iso() });
      lastBeat.delete(runId);
      return E.right(undefined);
    });
  // A released run that was left `running` lists as interrupted anyway (it has no live holder).
  const releaseRun = (runId: string) => release(runId, false);
  const markInterrupted = (runId: string) => release(runId, true);

  const interruptOwned = (): R<readonly string[]> =>
    attempt('releasing the runs of this process', () => {
      const ids = (q.owned.all(owner.token) as { id: string }[]).map((r) => r.id);
      return pipe(
        ids,
        E.traverseArray(markInterrupted),
        E.map(() => ids),
      );
    });

  return { heldByAnother, holderRow, busyError, notHeld, claimRun, heartbeat, releaseRun, markInterrupted, interruptOwned };
};

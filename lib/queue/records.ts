/**
 * What the queue keeps of each run besides BullMQ's job, in Redis where every worker and the coordinator
 * can read it:
 *
 *   optbench:run:<id>:events   stream of the run's RunEvents (not BatchEnded), in order, across attempts
 *   optbench:run:<id>:live     the latest BatchEnded only (a stream capped at one entry)
 *   optbench:run:<id>:ckpt     the checkpoint after the last committed epoch (lib/store/checkpoint's format)
 *   optbench:run:<id>:meta     attempt (workers that started it), clean (attempts that handed it back),
 *                              epochs (committed), terminal ('' | done | failed), worker
 *
 * Every write is one Lua script, fenced by the attempt number: a worker that lost its run (its lock
 * expired, another took it) can no longer write, and an epoch and its checkpoint land together or not at
 * all, so no epoch is stored twice and a resumed run starts exactly where its stored epochs end.
 */
import type { Redis } from 'ioredis';
import type { RunEvent } from '../train/events.js';

export const PREFIX = 'optbench';
export const QUEUE_NAME = 'runs';

export const runKeys = (runId: string) => ({
  events: `${PREFIX}:run:${runId}:events`,
  live: `${PREFIX}:run:${runId}:live`,
  ckpt: `${PREFIX}:run:${runId}:ckpt`,
  meta: `${PREFIX}:run:${runId}:meta`,
});

/** Refusals (a worker with other data, another backend), newest last, capped. */
export const REFUSALS_KEY = `${PREFIX}:refusals`;

const START = `
local attempt = tonumber(redis.call('HGET', KEYS[1], 'attempt') or '0')
local clean = tonumber(redis.call('HGET', KEYS[1], 'clean') or '0')
local epochs = tonumber(redis.call('HGET', KEYS[1], 'epochs') or '0')
local terminal = redis.call('HGET', KEYS[1], 'terminal') or ''
if terminal ~= '' then return {attempt, attempt - clean, epochs, terminal} end
local lost = attempt - clean
attempt = attempt + 1
redis.call('HSET', KEYS[1], 'attempt', attempt, 'worker', ARGV[1])
return {attempt, lost, epochs, ''}
`;

// KEYS: meta, events, ckpt. ARGV: attempt, kind, epoch, n, event1..eventN, [checkpoint | outcome]
const COMMIT = `
if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
local kind = ARGV[2]
local epoch = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
if kind == 'epoch' then
  local done = tonumber(redis.call('HGET', KEYS[1], 'epochs') or '0')
  if done ~= epoch - 1 then return -1 end
end
for i = 1, n do redis.call('XADD', KEYS[2], '*', 'e', ARGV[4 + i]) end
if kind == 'started' or kind == 'epoch' or kind == 'end' then redis.call('HSET', KEYS[1], 'epochs', epoch) end
if kind == 'epoch' then redis.call('SET', KEYS[3], ARGV[5 + n]) end
if kind == 'end' then
  redis.call('DEL', KEYS[3])
  redis.call('HSET', KEYS[1], 'terminal', ARGV[5 + n])
end
if kind == 'handback' or kind == 'pause' then redis.call('HINCRBY', KEYS[1], 'clean', 1) end
return 1
`;

interface Scripts {
  optbenchStart(meta: string, worker: string): Promise<[number, number, number, string]>;
  optbenchCommit(meta: string, events: string, ckpt: string, ...args: (string | Buffer | number)[]): Promise<number>;
}

const scripts = (redis: Redis): Redis & Scripts => {
  const r = redis as Redis & Scripts & { optbenchScripts?: true };
  if (!r.optbenchScripts) {
    r.defineCommand('optbenchStart', { numberOfKeys: 1, lua: START });
    r.defineCommand('optbenchCommit', { numberOfKeys: 3, lua: COMMIT });
    r.optbenchScripts = true;
  }
  return r;
};

export interface Attempt {
  /** This attempt's number (1 for the first worker to start the run). */
  readonly attempt: number;
  /** Earlier attempts whose worker died (neither finished nor handed the run back). */
  readonly lost: number;
  /** Epochs committed so far (the checkpoint, if any, is after this epoch). */
  readonly epochs: number;
  /** Non-empty when the run already ended (done or failed): nothing to train. */
  readonly terminal: string;
}

/** A worker starts a run: it becomes the run's only writer until another attempt starts. */
export const startAttempt = async (redis: Redis, runId: string, worker: string): Promise<Attempt> => {
  const [attempt, lost, epochs, terminal] = await scripts(redis).optbenchStart(runKeys(runId).meta, worker);
  return { attempt, lost, epochs, terminal };
};

export type Commit =
  | { readonly kind: 'started'; readonly fromEpoch: number; readonly events: readonly RunEvent[] }
  | { readonly kind: 'epoch'; readonly epoch: number; readonly events: readonly RunEvent[]; readonly checkpoint: Buffer }
  | { readonly kind: 'end'; readonly epochs: number; readonly events: readonly RunEvent[]; readonly outcome: 'done' | 'failed' }
  /** Stopped at the epoch it was asked to (an ASHA rung): RunPaused recorded, the run continues if asked. */
  | { readonly kind: 'pause'; readonly events: readonly RunEvent[] }
  | { readonly kind: 'handback' };

/**
 * Writes one step of a run's record, atomically. 'fenced' when another attempt has taken the run (this
 * worker must stop writing); 'out-of-order' when the epoch does not follow the committed ones.
 */
export const commit = async (redis: Redis, runId: string, attempt: number, c: Commit): Promise<'ok' | 'fenced' | 'out-of-order'> => {
  const k = runKeys(runId);
  const events = c.kind === 'handback' ? [] : c.events.map((e) => JSON.stringify(e));
  const epoch = c.kind === 'started' ? c.fromEpoch : c.kind === 'epoch' ? c.epoch : c.kind === 'end' ? c.epochs : 0;
  // (pause and handback leave the committed epochs as they are)
  const tail = c.kind === 'epoch' ? [c.checkpoint] : c.kind === 'end' ? [c.outcome] : [];
  const r = await scripts(redis).optbenchCommit(k.meta, k.events, k.ckpt, String(attempt), c.kind, String(epoch), String(events.length), ...events, ...tail);
  return r === 1 ? 'ok' : r === 0 ? 'fenced' : 'out-of-order';
};

/** The latest BatchEnded, for live progress (never part of the run's record). */
export const publishLive = async (redis: Redis, runId: string, e: RunEvent): Promise<void> => {
  await redis.xadd(runKeys(runId).live, 'MAXLEN', '1', '*', 'e', JSON.stringify(e));
};

/** The checkpoint after the last committed epoch, if any. */
export const readCheckpointBytes = async (redis: Redis, runId: string): Promise<Buffer | null> => redis.getBuffer(runKeys(runId).ckpt);

export interface RunMeta {
  readonly attempt: number;
  readonly clean: number;
  readonly epochs: number;
  readonly terminal: string;
  readonly worker: string;
}

export const readMeta = async (redis: Redis, runId: string): Promise<RunMeta> => {
  const h = await redis.hgetall(runKeys(runId).meta);
  return {
    attempt: Number(h.attempt ?? 0),
    clean: Number(h.clean ?? 0),
    epochs: Number(h.epochs ?? 0),
    terminal: h.terminal ?? '',
    worker: h.worker ?? '',
  };
};

/** Removes everything the queue keeps of a run but its job. */
export const deleteRunRecords = async (redis: Redis, runId: string): Promise<void> => {
  const k = runKeys(runId);
  await redis.del(k.events, k.live, k.ckpt, k.meta);
};

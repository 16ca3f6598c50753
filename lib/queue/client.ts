/**
 * The coordinator's side of the queue: a BullMQ Queue to submit runs to, and one blocking connection that
 * follows the event streams of every run it waits for (one XREAD for all of them).
 */
import { Queue } from 'bullmq';
import * as E from 'fp-ts/lib/Either.js';
import type { Redis } from 'ioredis';
import type { QueueError } from '../errors.js';
import { connectRedis, parseQueueUrl, type QueueUrl } from './connection.js';
import { PREFIX, QUEUE_NAME } from './records.js';

type Entry = [id: string, fields: string[]];

interface Follower {
  lastId: string;
  readonly onEntries: (entries: readonly Entry[]) => void;
}

/** Follows Redis streams from a given id on, for many readers at once, over one connection. */
export class StreamTail {
  private readonly followers = new Map<string, Follower>();
  private running = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly onError: (e: Error) => void,
    private readonly blockMs = 250,
  ) {}

  /** Calls `onEntries` with each batch of entries after `fromId` ('0': from the start, '$': only new ones). */
  follow(key: string, fromId: string, onEntries: (entries: readonly Entry[]) => void): () => void {
    const f: Follower = { lastId: fromId, onEntries };
    this.followers.set(key, f);
    this.wake?.();
    if (!this.running) void this.loop();
    return () => {
      if (this.followers.get(key) === f) this.followers.delete(key);
    };
  }

  private async loop(): Promise<void> {
    this.running = true;
    while (!this.closed) {
      if (this.followers.size === 0) {
        await new Promise<void>((r) => (this.wake = r));
        this.wake = null;
        continue;
      }
      const keys = [...this.followers.keys()];
      // '$' would mean "after the newest entry when this call starts": pin it to an id once known.
      const ids = keys.map((k) => this.followers.get(k)!.lastId);
      try {
        const res = (await this.redis.xread('COUNT', 1000, 'BLOCK', this.blockMs, 'STREAMS', ...keys, ...ids)) as [string, Entry[]][] | null;
        for (const [key, entries] of res ?? []) {
          const f = this.followers.get(key);
          if (f === undefined || entries.length === 0) continue;
          f.lastId = entries[entries.length - 1]![0];
          f.onEntries(entries);
        }
        // A '$' that saw nothing stays '$'; one that saw entries now has an id.
      } catch (e) {
        if (this.closed) break;
        this.onError(e instanceof Error ? e : new Error(String(e)));
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    this.running = false;
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }
}

export interface QueueClient {
  readonly url: QueueUrl;
  /** For commands (submitting, reading state and records). */
  readonly redis: Redis;
  readonly queue: Queue;
  readonly tail: StreamTail;
  close(): Promise<void>;
}

export interface QueueClientOptions {
  /** Keep reconnecting while Redis is down (a coordinator streaming a grid); default true. */
  readonly persistent?: boolean;
  readonly log?: (line: string) => void;
}

/** Connects to the queue at `url` (one clear error if it cannot). */
export const connectQueue = async (url: string, opts: QueueClientOptions = {}): Promise<E.Either<QueueError, QueueClient>> => {
  const q = parseQueueUrl(url);
  if (E.isLeft(q)) return q;
  const persistent = opts.persistent ?? true;
  const log = opts.log ?? ((line: string) => void process.stderr.write(`optbench: ${line}\n`));
  const redis = await connectRedis(url, { persistent, name: 'optbench-coordinator' })();
  if (E.isLeft(redis)) return redis;
  const blocking = await connectRedis(url, { persistent, name: 'optbench-coordinator-tail' })();
  if (E.isLeft(blocking)) {
    redis.right.disconnect();
    return blocking;
  }
  let warned = false;
  const onError = (e: Error): void => {
    if (warned) return;
    warned = true;
    log(`lost the connection to Redis at ${q.right.host}:${q.right.port} (${e.message}); reconnecting, finished epochs are kept`);
  };
  redis.right.on('error', onError);
  blocking.right.on('error', onError);
  redis.right.on('ready', () => {
    if (warned) log(`reconnected to Redis at ${q.right.host}:${q.right.port}`);
    warned = false;
  });
  const queue = new Queue(QUEUE_NAME, { connection: redis.right, prefix: PREFIX });
  queue.on('error', onError);
  const tail = new StreamTail(blocking.right, onError);
  return E.right({
    url: q.right,
    redis: redis.right,
    queue,
    tail,
    async close() {
      tail.close();
      await queue.close().catch(() => undefined);
      redis.right.disconnect();
      blocking.right.disconnect();
    },
  });
};

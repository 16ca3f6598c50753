/**
 * The Redis behind the queue: its URL (password and TLS travel in it, `redis://:pw@host:port/db`,
 * `rediss://...`), and connections that fail with a sentence rather than an ioredis stack.
 */
import * as E from 'fp-ts/lib/Either.js';
import * as TE from 'fp-ts/lib/TaskEither.js';
import { pipe } from 'fp-ts/lib/function.js';
import { Redis, type RedisOptions } from 'ioredis';
import { queueError, type QueueError } from '../errors.js';

export interface QueueUrl {
  /** As given, to connect with. */
  readonly url: string;
  /** For messages: the password replaced by `***`. */
  readonly shown: string;
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly hasPassword: boolean;
}

/** The URL with its password (if any) blanked out, for anything printed or stored. */
export const redactUrl = (url: string): string => url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');

const bad = (url: string, why: string): QueueError =>
  queueError({
    url: redactUrl(url),
    message: `--queue ${redactUrl(url)}: ${why} Write it as redis://HOST:PORT[/DB], with a password as redis://:PASSWORD@HOST:PORT, or rediss://... for TLS.`,
  });

/** Checks a queue URL before anything connects with it. */
export const parseQueueUrl = (url: string): E.Either<QueueError, QueueUrl> => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return E.left(bad(url, 'this is not a URL.'));
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') return E.left(bad(url, `the scheme must be redis: or rediss:, not ${u.protocol}`));
  if (u.hostname === '') return E.left(bad(url, 'it names no host.'));
  const db = u.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) return E.left(bad(url, `the database must be a number (redis://HOST:PORT/0), not '${db}'.`));
  const port = u.port === '' ? 6379 : Number(u.port);
  return E.right({
    url,
    shown: redactUrl(url),
    host: u.hostname,
    port,
    tls: u.protocol === 'rediss:',
    hasPassword: u.password !== '',
  });
};

/** What an ioredis or Redis error means for the user, in one sentence with what to do. */
export const explainRedisError = (q: QueueUrl, e: unknown): QueueError => {
  const msg = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: string } | null)?.code ?? '';
  const where = `Redis at ${q.host}:${q.port}`;
  const text =
    /WRONGPASS|invalid password|invalid username-password/i.test(msg)
      ? `${where} refused the password in --queue ${q.shown}: give the right one (redis://:PASSWORD@${q.host}:${q.port}).`
      : /NOAUTH|Authentication required/i.test(msg)
        ? `${where} needs a password: give it in the URL, --queue redis://:PASSWORD@${q.host}:${q.port}.`
        : /AUTH.*called without any password configured|without any password/i.test(msg)
          ? `${where} has no password set, but --queue gives one: remove it from the URL or set requirepass on the server.`
          : code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)
            ? `Cannot reach ${where} (connection refused): start redis-server there, or fix the host and port in --queue ${q.shown}.`
            : code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg)
              ? `Cannot find the host '${q.host}' of --queue ${q.shown}: check its name.`
              : /ETIMEDOUT|timed? ?out/i.test(msg)
                ? `${where} did not answer in time: check that it is running and reachable from this machine (firewall, --queue ${q.shown}).`
                : /SSL|TLS|certificate|EPROTO|wrong version number/i.test(msg)
                  ? `The TLS connection to ${where} failed (${msg}): use rediss:// only for a server with TLS on, redis:// otherwise.`
                  : /Connection is closed|ECONNRESET|EPIPE/.test(msg)
                    ? `${where} closed the connection: is it being restarted? Run the same command again once it is up.`
                    : `${where}: ${msg}`;
  return queueError({ url: q.shown, message: text });
};

export interface ConnectOptions {
  /** Give up connecting after this long (ms). */
  readonly connectTimeoutMs?: number;
  /**
   * Long-lived processes (workers, a coordinator streaming a grid) keep reconnecting while Redis restarts;
   * a one-off command (`queue status`) fails at once.
   */
  readonly persistent?: boolean;
  readonly name?: string;
}

/** ioredis options for BullMQ (it needs `maxRetriesPerRequest: null` on workers' connections). */
export const redisOptions = (q: QueueUrl, opts: ConnectOptions = {}): RedisOptions => ({
  maxRetriesPerRequest: opts.persistent === false ? 1 : null,
  connectTimeout: opts.connectTimeoutMs ?? 10_000,
  lazyConnect: true,
  ...(opts.name !== undefined ? { connectionName: opts.name } : {}),
  // Reconnect every second at most; a one-off command gives up after the first failure.
  retryStrategy: (times: number) => (opts.persistent === false ? null : Math.min(1000, 100 * times)),
});

/**
 * Connects and checks the server answers (and accepts the password), so that a wrong URL is one clear
 * error up front, not an endless reconnect loop.
 */
export const connectRedis = (url: string, opts: ConnectOptions = {}): TE.TaskEither<QueueError, Redis> =>
  pipe(
    TE.fromEither(parseQueueUrl(url)),
    TE.flatMap((q) =>
      TE.tryCatch(
        async () => {
          const client = new Redis(url, { ...redisOptions(q, opts), retryStrategy: () => null });
          // The first error says why (a refused password); the promise below may only say the connection closed.
          let first: unknown;
          const onError = (e: unknown): void => void (first ??= e);
          client.on('error', onError);
          try {
            await client.connect();
            await client.ping();
          } catch (e) {
            client.disconnect();
            throw explainRedisError(q, first ?? e);
          }
          client.off('error', onError);
          // From now on, reconnect as the caller asked (a worker rides out a Redis restart).
          client.options.retryStrategy = redisOptions(q, opts).retryStrategy;
          return client;
        },
        (e) => ((e as QueueError)._tag === 'QueueError' ? (e as QueueError) : queueError({ url: redactUrl(url), message: String(e) })),
      ),
    ),
  );

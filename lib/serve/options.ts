/** What `serve` is given, decoded with io-ts at its entry (the CLI parses its flags into this). */
import * as t from 'io-ts';
import * as E from 'fp-ts/lib/Either.js';
import { intIn, strict } from '../config/codecs.js';
import { decodeWith } from '../config/spec.js';
import type { InvalidConfig } from '../errors.js';

export const DEFAULT_PORT = 8600;
export const DEFAULT_HOST = '127.0.0.1';

const NonEmpty = new t.Type<string, string, unknown>(
  'a non-empty string',
  (u): u is string => typeof u === 'string' && u.trim() !== '',
  (u, c) => (typeof u === 'string' && u.trim() !== '' ? t.success(u) : t.failure(u, c)),
  (s) => s,
);

export const ServeSettings = strict(
  t.intersection([
    t.type({
      /** The run directories, as given (each must hold a store, as `optbench runs` needs). */
      dirs: t.refinement(t.readonlyArray(NonEmpty), (a) => a.length > 0 && a.length <= 1000, 'one to 1000 run directories'),
    }),
    t.partial({
      /** Where to listen: loopback unless told otherwise. */
      host: NonEmpty,
      /** 0: any free port (the URL says which). */
      port: intIn('a port from 0 to 65535', 0, 65_535),
      /** `redis://HOST:PORT`: also show the queue's jobs and workers. */
      queue: NonEmpty,
      /** How often each directory's files are looked at. */
      intervalMs: intIn('an interval from 20 to 60000 ms', 20, 60_000),
      /** While runs are held by live processes, how often the store is read even when no file changed. */
      refreshMs: intIn('an interval from 100 to 600000 ms', 100, 600_000),
      /** How often the queue's status is read. */
      queueEveryMs: intIn('an interval from 100 to 600000 ms', 100, 600_000),
    }),
  ]),
  'serve options',
);

export type ServeOptions = t.TypeOf<typeof ServeSettings>;

export const decodeServeOptions = (u: unknown): E.Either<InvalidConfig, ServeOptions> => decodeWith(ServeSettings, 'serve options')(u);

/** Whether `host` is this machine only (loopback); anything else makes the page reachable from others. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);

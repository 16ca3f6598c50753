import type Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import type { OptbenchError } from '../errors.js';
import { currentOwner, type Owner } from './owner.js';
import { prepareQueries, type Queries } from './queries.js';
import { fromSqlite } from './sqlite-error.js';
import type { StoreOptions } from './store.js';
import { libraryVersions, type Versions } from './versions.js';

export type R<A> = E.Either<OptbenchError, A>;

/** What the leases, writes and reads of one open store share. */
export interface StoreContext {
  readonly db: Database.Database;
  readonly file: string;
  readonly q: Queries;
  /** This process, as it marks the runs it holds. */
  readonly owner: Owner;
  /** Milliseconds since 1970, and the same instant as an ISO string. */
  readonly now: () => number;
  readonly iso: () => string;
  readonly leaseMs: number;
  readonly heartbeatEveryMs: number;
  readonly progressEveryMs: number;
  readonly versions: Versions;
  /** When this store last renewed its lease on each run it holds. */
  readonly lastBeat: Map<string, number>;
  /** Runs `f`, turning what SQLite throws into a store error that says what was being done. */
  attempt<A>(doing: string, f: () => R<A>): R<A>;
  /** One IMMEDIATE transaction: the write lock is taken up front, so a read-then-write never races another process. */
  tx<A>(doing: string, f: () => R<A>): R<A>;
  /** The owner columns of a run this store takes or renews, stamped now. */
  ownerParams(): { token: string; pid: number; host: string; started: string | null; beat: number; now: string };
}

export const storeContext = (db: Database.Database, file: string, opts: StoreOptions): StoreContext => {
  const now = opts.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const leaseMs = opts.leaseMs ?? 60_000;
  const owner: Owner = { ...currentOwner(), ...opts.owner };

  const attempt = <A>(doing: string, f: () => R<A>): R<A> => {
    try {
      return f();
    } catch (u) {
      return E.left(fromSqlite(file, doing, u));
    }
  };

  const tx = <A>(doing: string, f: () => R<A>): R<A> =>
    attempt(doing, () => {
      // A Left rolls the transaction back too: nothing half-written is kept.
      const rollback = Symbol('rollback');
      let failed: R<A> | undefined;
      try {
        return db
          .transaction(() => {
            const r = f();
            if (E.isLeft(r)) {
              failed = r;
              throw rollback;
            }
            return r;
          })
          .immediate();
      } catch (u) {
        if (u === rollback && failed !== undefined) return failed;
        throw u;
      }
    });

  return {
    db,
    file,
    q: prepareQueries(db),
    owner,
    now,
    iso,
    leaseMs,
    heartbeatEveryMs: opts.heartbeatEveryMs ?? leaseMs / 4,
    progressEveryMs: opts.progressEveryMs ?? 1000,
    versions: libraryVersions(),
    lastBeat: new Map<string, number>(),
    attempt,
    tx,
    ownerParams: () => ({
      token: owner.token,
      pid: owner.pid,
      host: owner.host,
      started: owner.started,
      beat: now(),
      now: iso(),
    }),
  };
};

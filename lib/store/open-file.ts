import Database from 'better-sqlite3';
import { existsSync, linkSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { ioError, printable, storeError, type OptbenchError } from '../errors.js';
import { migrate, notOurs, schemaVersion, SCHEMA_VERSION, tooNew } from './schema.js';
import { fromSqlite, rebuildAdvice, sqliteCode } from './sqlite-error.js';

/**
 * The store file as openStore meets it: created whole or not at all, refused when it is not a complete
 * optbench store (never re-initialised), and read without writing anything for the commands that only read.
 */

export const missing = (file: string): OptbenchError =>
  storeError({
    file,
    message: `No optbench store at ${printable(file)}: give the output directory of a task or run (its --out DIR), or run one first.`,
  });

/** A file named like a store that optbench did not write completely (0 bytes): never taken as a new store. */
export const emptyFile = (file: string): OptbenchError =>
  storeError({
    file,
    message:
      `${printable(file)} is empty (0 bytes), so it is not an optbench store (it was truncated, or made by another program); ` +
      `optbench does not re-initialise it. ${rebuildAdvice(file)}`,
  });

/**
 * A new store is made under a temporary name and linked into place once it holds the schema, so that a
 * file at `file` is always a complete store: a process killed while creating one leaves no empty store,
 * and an empty file there is somebody else's. Two processes creating one store at once both end up with
 * the one linked first.
 */
export const createStore = (file: string): E.Either<OptbenchError, void> => {
  const tmp = join(dirname(file), `.${basename(file)}.new-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
  try {
    const db = new Database(tmp);
    try {
      db.pragma('journal_mode = WAL');
      const migrated = migrate(db, tmp);
      if (E.isLeft(migrated)) return migrated;
    } finally {
      db.close();
    }
    try {
      linkSync(tmp, file);
    } catch (u) {
      const code = (u as NodeJS.ErrnoException).code;
      // EEXIST: another process linked its store first, and that one is used. Without hard links, a rename.
      if (code !== 'EEXIST' && !existsSync(file)) renameSync(tmp, file);
    }
    return E.right(undefined);
  } catch (u) {
    return E.left(fromSqlite(file, 'creating the store', u));
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed into place, or never created
    }
  }
};

/** A database file's bytes as an in-memory database (WAL mode switched off in the copy's header, as memory databases need). */
export const memoryCopy = (bytes: Buffer): Database.Database => {
  const copy = Buffer.from(bytes);
  if (copy.length >= 20 && copy[18] === 2 && copy[19] === 2) {
    copy[18] = 1;
    copy[19] = 1;
  }
  return new Database(copy);
};

const READONLY_FS = /^SQLITE_(READONLY|CANTOPEN|PERM)/;

/**
 * Opens the store for reading only, writing nothing, not even SQLite's -wal and -shm files beside it.
 * Without a -wal file no process has the store open, and its file is complete: it is read from a copy in
 * memory. With one, a grid may be writing it now: it is read through SQLite, which sees its latest commits
 * (and, where the directory is read-only, from a copy in memory when the -wal file holds nothing).
 */
export const openReadonly = (file: string): E.Either<OptbenchError, Database.Database> => {
  const wal = `${file}-wal`;
  try {
    if (!existsSync(wal)) return E.right(memoryCopy(readFileSync(file)));
  } catch (u) {
    return E.left(fromSqlite(file, 'reading the store', u));
  }
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      return E.right(db);
    } catch (u) {
      db.close();
      throw u;
    }
  } catch (u) {
    const code = sqliteCode(u);
    if (code === undefined || !READONLY_FS.test(code)) return E.left(fromSqlite(file, 'opening the store for reading', u));
  }
  try {
    if (statSync(wal).size > 0)
      return E.left(
        ioError({
          file: wal,
          code: 'EROFS',
          message:
            `${printable(file)} cannot be read here: its directory cannot be written and ${basename(wal)} holds changes not yet ` +
            `merged into it (the process writing it did not finish). Read it where the directory is writable.`,
        }),
      );
    return E.right(memoryCopy(readFileSync(file)));
  } catch (u) {
    return E.left(fromSqlite(file, 'opening the store for reading', u));
  }
};

/** Refuses what is not an optbench store at this optbench's schema or older, before anything is written. */
export const checkVersion = (db: Database.Database, file: string): E.Either<OptbenchError, number> => {
  try {
    const v = schemaVersion(db);
    // 0: an SQLite database without tables. A store optbench made always has its schema (see createStore).
    if (v === null || v === 0) return E.left(notOurs(file, rebuildAdvice(file)));
    return v > SCHEMA_VERSION ? E.left(tooNew(file, v)) : E.right(v);
  } catch (u) {
    return E.left(fromSqlite(file, 'opening the store', u));
  }
};

import { accessSync, constants, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsCause, ioError, printable, storeError, toOptbenchError, isOptbenchError, type OptbenchError } from '../errors.js';

/**
 * What to do about a file that is named like the store but is not one: move it away, and rebuild the store
 * from the run records beside it when there are any (they hold every finished epoch and result).
 */
export const rebuildAdvice = (file: string): string => {
  const dir = dirname(file);
  let records = 0;
  try {
    records = readdirSync(join(dir, 'runs')).filter((n) => n.endsWith('.json')).length;
  } catch {
    records = 0;
  }
  return records > 0
    ? `${dir}/runs holds ${records} run record${records === 1 ? '' : 's'}: to rebuild the store from them, move ${basename(file)} ` +
        `away (e.g. mv ${printable(file)} ${printable(file)}.bad) and run 'optbench rebuild ${printable(dir)}'.`
    : `Move it away, or choose another output directory with --out DIR.`;
};

/** Why `file` (or its directory) cannot be written, as an errno found by asking the file system. */
const writeCode = (file: string): string | undefined => {
  for (const p of [file, dirname(file)]) {
    try {
      accessSync(p, constants.W_OK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') return code;
    }
  }
  return undefined;
};

/** The SQLite result code of an error thrown by better-sqlite3 (`SQLITE_FULL`, ...), if it is one. */
export const sqliteCode = (u: unknown): string | undefined => {
  const code = (u as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
};

/**
 * Turns whatever a better-sqlite3 call threw into an OptbenchError whose message names the store file,
 * what optbench was doing and what the user can do about it.
 */
export const fromSqlite = (file: string, doing: string, u: unknown): OptbenchError => {
  if (isOptbenchError(u)) return u;
  const code = sqliteCode(u);
  if (code === undefined) return toOptbenchError(u);
  const detail = u instanceof Error ? u.message : String(u);
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR_WRITE') || code === 'SQLITE_IOERR_FSYNC')
    return ioError({
      file,
      code: code === 'SQLITE_FULL' ? 'ENOSPC' : code,
      message:
        `${file}: could not write while ${doing} (${detail}). The disk is probably full: free some space and run the ` +
        `same command again; everything committed before is kept and finished runs are not retrained.`,
    });
  if (code === 'SQLITE_NOTADB')
    return storeError({
      file,
      message:
        `${file} is not an SQLite database (it is some other file, or was damaged). optbench keeps its results in ` +
        `this file and never overwrites it. ${rebuildAdvice(file)}`,
    });
  if (code === 'SQLITE_CORRUPT')
    return storeError({
      file,
      message: `${file} is damaged (${detail}) while ${doing}. Move it away (finished results can be recovered ` +
        `with the sqlite3 '.recover' command) or choose another output directory with --out DIR.`,
    });
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED')
    return storeError({
      file,
      message: `${file} stayed locked by another process for too long while ${doing}. Wait for the other optbench ` +
        `process to finish (or stop it), then run the same command again.`,
    });
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    // A file-system problem: name its cause as the file system reports it (read-only, permission, ...).
    const errno = writeCode(file);
    const cause = fsCause(errno) ?? detail;
    return ioError({
      file,
      ...(errno !== undefined ? { code: errno } : {}),
      message: `${file} cannot be written (${cause}) while ${doing}: choose an output directory you can write with --out DIR, or fix its permissions.`,
    });
  }
  return storeError({ file, message: `${file}: SQLite failed while ${doing} (${code}: ${detail}).` });
};

import { ioError, storeError, toOptbenchError, isOptbenchError, type OptbenchError } from '../errors.js';

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
        `this file: move it away, or choose another output directory with --out DIR.`,
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
  if (code === 'SQLITE_READONLY' || code === 'SQLITE_CANTOPEN' || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH')
    return storeError({
      file,
      message: `${file} cannot be opened for writing (${detail}) while ${doing}: check that the directory exists and ` +
        `that you may write it and the file, or choose another output directory with --out DIR.`,
    });
  return storeError({ file, message: `${file}: SQLite failed while ${doing} (${code}: ${detail}).` });
};

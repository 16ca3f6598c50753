/** What changes on disk when anything a run directory's page shows changes, read with a few stat calls. */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { GRID_FILE } from '../store/run-dir.js';
import { STORE_FILE } from '../store/store.js';

/**
 * The files whose change means a new read: the store (a checkpoint or a rebuild rewrites it), its WAL (every
 * commit of a process writing it lands there first), grid.json (a grid adds runs) and sweep.json. runs/*.json
 * are copies of what the store holds, so they are not watched.
 */
const WATCHED = [STORE_FILE, `${STORE_FILE}-wal`, GRID_FILE, 'sweep.json'] as const;

/**
 * Identity, size and modification time (in nanoseconds) of each watched file, '-' for one that is absent:
 * equal signatures mean nothing a reader could see has changed. A WAL that SQLite resets and refills to the
 * same size still moves its mtime.
 */
export const dirSignature = (dir: string): string =>
  WATCHED.map((name) => {
    try {
      const s = statSync(join(dir, name), { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return '-';
    }
  }).join('|');

import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { fsCause, invalidConfig, ioError, printable, type OptbenchError } from '../../lib/errors.js';
import { outDirState } from '../../lib/store/run-dir.js';
import { STORE_FILE } from '../../lib/store/index.js';

/** The errno that stops `dir` from being created and written, found on the nearest ancestor that exists. */
const writeProblem = (dir: string, code: string | undefined): string | undefined => {
  if (code !== 'ENOENT') return code;
  // mkdir -p on a read-only or foreign parent can report ENOENT: ask the nearest existing ancestor.
  let p = dirname(dir);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  try {
    accessSync(p, constants.W_OK);
    return code;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? code;
  }
};

/**
 * Puts back a directory a command was refused in before its first run, when it was absent or empty
 * before the command and holds nothing now but `ours` (the files of a store no run was written to, an
 * empty runs/): they go, and so does the directory if the command made it. A refusal leaves nothing.
 */
export const restoreIfUntouched = (dir: string, before: 'absent' | 'empty' | 'other', ours: readonly string[]): void => {
  if (before === 'other') return;
  try {
    const left = readdirSync(dir);
    if (!left.every((n) => ours.includes(n))) return;
    // Files of ours go; a directory of ours only while it is empty (rmdirSync refuses otherwise).
    for (const n of left) {
      const p = join(dir, n);
      if (statSync(p).isDirectory()) rmdirSync(p);
      else rmSync(p, { force: true });
    }
    if (before === 'absent') rmdirSync(dir);
  } catch {
    // Nothing to clean, or it cannot be: the command's own error is what the user needs.
  }
};

/** Creates the directory if needed and fails early, naming the cause, when it can't be written. */
export const ensureWritable = (dir: string): E.Either<OptbenchError, string> => {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    return E.right(dir);
  } catch (e) {
    const code = writeProblem(dir, (e as NodeJS.ErrnoException).code);
    const cause =
      code === 'EEXIST' ? 'it is a file, not a directory' : (fsCause(code) ?? (e instanceof Error ? e.message : String(e)));
    return E.left(
      ioError({
        file: dir,
        ...(code !== undefined ? { code } : {}),
        message: `Cannot write the output directory ${printable(dir)}: ${cause}. Choose another with --out DIR.`,
      }),
    );
  }
};

/**
 * The output directory of a command that writes a run directory (`--out`, or `fallback` when not given).
 * An empty or blank --out is bad input; optbench never overwrites a file it did not write, so an existing
 * directory must be empty or a run directory (see isRunDir) unless the user says --force.
 */
export const outputDir = (
  raw: string | boolean | undefined,
  fallback: () => string,
  force: boolean,
): E.Either<OptbenchError, string> => {
  if (typeof raw === 'string' && raw.trim() === '')
    return E.left(
      invalidConfig({
        path: 'out',
        message: `--out '${printable(raw)}' is empty: give the directory to write the run into, e.g. --out runs/mine, or leave out --out for a new directory under runs/.`,
      }),
    );
  const dir = resolve(typeof raw === 'string' ? raw : fallback());
  const state = outDirState(dir);
  if (state === 'file')
    return E.left(
      ioError({ file: dir, code: 'EEXIST', message: `Cannot write the output directory ${printable(dir)}: it is a file, not a directory. Choose another with --out DIR.` }),
    );
  if (state === 'foreign' && !force)
    return E.left(
      invalidConfig({
        path: 'out',
        message:
          `Refusing to write into ${printable(dir)}: it is not empty and not an optbench run directory (it has no ${STORE_FILE}), ` +
          `so optbench could overwrite files it did not write (results.md, report.html, ...). Choose a new or empty directory ` +
          `with --out DIR, or add --force to write into this one anyway.`,
      }),
    );
  return ensureWritable(dir);
};

/** What `optbench report --out DIR` writes: report.html and report/ (and nothing else). */
const REPORT_ENTRIES: ReadonlySet<string> = new Set(['report.html', 'report']);

/**
 * The output directory of `optbench report --out DIR`: as for a run directory, but a directory holding
 * only an earlier report (report.html, report/) is also one optbench wrote.
 */
export const reportOutDir = (raw: string, force: boolean): E.Either<OptbenchError, string> => {
  const earlierReport = (dir: string): boolean => {
    try {
      return readdirSync(dir).every((n) => REPORT_ENTRIES.has(n)) && existsSync(`${dir}/report`);
    } catch {
      return false;
    }
  };
  if (raw.trim() !== '' && earlierReport(resolve(raw))) return ensureWritable(resolve(raw));
  return outputDir(raw, () => raw, force);
};

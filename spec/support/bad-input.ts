/**
 * What the bad-input specs share: the command as a user runs it (child process, or `main` in this
 * process), the fixed grid they vary, copies of the fixture data set, and the two tables of
 * docs/bad-inputs.md, which spec/bad-input.spec.ts checks against what every bad-input spec observed.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { encodeIdx } from '../../lib/data/idx.js';
import type { ErrorTag, OptbenchError } from '../../lib/errors.js';
import { FIXTURE, MAIN, ROOT, cli as run, type Ran } from './cli.js';

export { FIXTURE, ROOT };
export type { Ran };

/** The command in a child process, with OPTBENCH_DEBUG off so that errors print as users see them. */
export const cli = (argv: readonly string[], env: Record<string, string> = {}): Promise<Ran> => run(argv, { ...env, OPTBENCH_DEBUG: '' });

/**
 * `main(argv)` in this process, with what it writes to stdout and stderr: the same lines as the command,
 * without the few seconds a process takes to start. One at a time (it takes over the output streams).
 */
export const inProcess = async (argv: readonly string[]): Promise<Ran> => {
  const { main } = await import('../../pipelines/cli/main.js');
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += chunk.toString()), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += chunk.toString()), true)) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
};

/**
 * The command without the power to write files it may not write. As root, chmod stops no write: the
 * command then runs as root without the capabilities that let root ignore file permissions (setpriv drops
 * CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER from its bounding set), so the kernel refuses every
 * write a file's mode forbids; as anyone else, as themselves. Returns also how it ran.
 */
export const cliUnprivileged = (argv: readonly string[]): Promise<Ran & { readonly as: string }> =>
  new Promise((done, failed) => {
    const root = process.getuid?.() === 0;
    const node = [process.execPath, '--import', 'tsx', MAIN, ...argv];
    const [cmd, ...args] = root ? ['setpriv', '--bounding-set', '-dac_override,-dac_read_search,-fowner', ...node] : node;
    const proc = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, OPTBENCH_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', failed);
    proc.on('close', (code) => done({ code, stdout, stderr, as: root ? 'root without CAP_DAC_OVERRIDE' : `uid ${process.getuid?.()}` }));
  });

/** The fixed grid every case varies: FCNN, SGD, one epoch of 50 images of the fixture data set on the cpu backend. */
export const grid = (out: string, extra: readonly string[] = [], data = FIXTURE): string[] => [
  'run',
  '--models',
  'fcnn',
  '--optimizers',
  'sgd',
  '--epochs',
  '1',
  '--subset',
  '50',
  '--test-subset',
  '50',
  '--batch-size',
  '50',
  '--data-dir',
  data,
  '--dataset',
  'fashion-mini',
  '--backend',
  'cpu',
  '--no-report',
  '--out',
  out,
  ...extra,
];

/** Replaces `--name value` in argv (or appends it). */
export const withOpt = (argv: readonly string[], name: string, value: string): string[] => {
  const i = argv.indexOf(name);
  return i < 0 ? [...argv, name, value] : [...argv.slice(0, i + 1), value, ...argv.slice(i + 2)];
};

export const IDX_NAMES = ['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'];

/** A copy of the fixture data set in `dir`, changed by `change` (file names relative to the copy). */
export const fixtureCopy = (dir: string, change: (dir: string) => void, withSums = true): string => {
  mkdirSync(dir, { recursive: true });
  for (const f of [...(withSums ? ['MD5SUMS'] : []), ...IDX_NAMES]) copyFileSync(join(FIXTURE, f), join(dir, f));
  change(dir);
  return dir;
};

export const rewriteGz = (file: string, f: (raw: Buffer) => Buffer) => writeFileSync(file, gzipSync(f(gunzipSync(readFileSync(file)))));

/** An IDX images file's 28x28 images padded (or cropped) to size x size. */
export const resized = (file: string, size: number) =>
  rewriteGz(file, (raw) => {
    const n = raw.readUInt32BE(4);
    const pixels = new Uint8Array(n * size * size);
    for (let i = 0; i < n; i++)
      for (let r = 0; r < Math.min(28, size); r++)
        for (let c = 0; c < Math.min(28, size); c++) pixels[i * size * size + r * size + c] = raw[16 + i * 784 + r * 28 + c]!;
    return Buffer.from(encodeIdx([n, size, size], pixels));
  });

/** An IDX labels file with some labels replaced: `at` maps an index to its new label. */
export const relabelled = (file: string, at: Readonly<Record<number, number>>) =>
  rewriteGz(file, (raw) => {
    const b = Buffer.from(raw);
    for (const [i, label] of Object.entries(at)) b[8 + Number(i)] = label;
    return b;
  });

/** One row of the first table: a bad input, the typed error it gets and the exit code. */
export interface ErrorRow {
  readonly input: string;
  readonly argv: readonly string[];
  readonly tag: ErrorTag;
  readonly exit: number;
  readonly message: string;
}

/** One row of the second table: an input that is no error, and what optbench does with it. */
export interface BehaviourRow {
  readonly input: string;
  readonly argv: readonly string[];
  readonly exit: number;
  /** What optbench does, as the test checked it. */
  readonly does: string;
  /** The test that checks it. */
  readonly test: string;
}

/**
 * Rows observed by the themed bad-input specs (which spec/bad-input.spec.ts imports so that they run,
 * and fill these, before it writes the table). Paths are already normalised by each spec.
 */
export const errorRows: ErrorRow[] = [];
export const behaviourRows: BehaviourRow[] = [];

/** Replaces a spec's temporary directory and the project root in a text, so the docs read the same everywhere. */
export const normaliser =
  (tmp: () => string) =>
  (s: string): string =>
    s
      .split(tmp())
      .join('<tmp>')
      .split(ROOT + '/')
      .join('')
      .split(ROOT)
      .join('.');

/** The error a run of the CLI printed, as a typed error for the table (the message without the prefix). */
export const printedError = (tag: ErrorTag, ran: Ran): OptbenchError =>
  ({ _tag: tag, message: (ran.stderr.trimEnd().split('\n').at(-1) ?? '').replace(/^optbench: /, '') }) as OptbenchError;

/** How the docs name the test that checks a row: `bad-input-rundir.spec.ts: <title>`. */
export const testRef = (file: string, test: { readonly title: string } | undefined): string => `${basename(file)}: ${test?.title ?? ''}`;

/** Who runs the read-only checks, as the docs say it (the same whoever runs the tests). */
export const UNPRIVILEGED = 'by a user the file modes forbid to write (as root: without CAP_DAC_OVERRIDE)';

/**
 * Every bad input the CLI can get: each must end as a typed OptbenchError whose message says what was
 * wrong and what to do, printed as one line without a stack trace, with exit code 2 (usage, config) or
 * 1 (run time). The cases here are also the table in docs/bad-inputs.md: the last test checks that the
 * table is what these cases produce (OPTBENCH_WRITE_DOCS=1 rewrites it).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { executeGrid, parseRunCommand, parseTaskCommand } from '../lib/cli/grid-command.js';
import { COMMANDS, main } from '../lib/cli/main.js';
import { isOptbenchError, unknown, type ErrorTag, type OptbenchError } from '../lib/errors.js';
import { openStore, storePath } from '../lib/store/store.js';
import { SCHEMA_VERSION } from '../lib/store/schema.js';
import { readRunDir } from '../lib/report/read.js';
import type { RunRecord } from '../lib/train/record.js';
import { FIXTURE, ROOT, cli as run, type Ran } from './support/cli.js';

const DOC = join(ROOT, 'docs', 'bad-inputs.md');

/** The command in a child process, with OPTBENCH_DEBUG off so that errors print as users see them. */
const cli = (argv: readonly string[], env: Record<string, string> = {}): Promise<Ran> => run(argv, { ...env, OPTBENCH_DEBUG: '' });

/** `main(argv)` in this process, with what it writes to stdout and stderr. */
const inProcess = async (argv: readonly string[]): Promise<Ran> => {
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

/** Runs `f` over `items`, at most `n` at once (2 cores: more only queues). */
const pool = async <A, B>(items: readonly A[], n: number, f: (a: A) => Promise<B>): Promise<B[]> => {
  const out: B[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
};

let tmp = '';
const T = (...p: string[]) => join(tmp, ...p);

/** A copy of the fixture data set, changed by `change` (file names relative to the copy). */
const dataDir = (name: string, change: (dir: string) => void): string => {
  const dir = T('data', name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['MD5SUMS', 'train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])
    copyFileSync(join(FIXTURE, f), join(dir, f));
  change(dir);
  return dir;
};
const rewriteGz = (file: string, f: (raw: Buffer) => Buffer) => writeFileSync(file, gzipSync(f(gunzipSync(readFileSync(file)))));

const grid = (out: string, extra: readonly string[] = [], data = FIXTURE): string[] => [
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
const withOpt = (argv: readonly string[], name: string, value: string): string[] => {
  const i = argv.indexOf(name);
  return i < 0 ? [...argv, name, value] : [...argv.slice(0, i + 1), value, ...argv.slice(i + 2)];
};

/** The typed error a grid command ends with, computed in this process through the library. */
const gridError = async (argv: readonly string[]): Promise<OptbenchError> => {
  const [command, ...rest] = argv;
  const cmd = await (command === 'task' ? parseTaskCommand(rest) : parseRunCommand(rest));
  if (E.isLeft(cmd)) return cmd.left;
  const done = await executeGrid(cmd.right);
  if (E.isLeft(done)) return done.left;
  throw new Error(`expected ${argv.join(' ')} to fail, but it succeeded`);
};

const storeOpenError = (dir: string): OptbenchError => {
  const s = openStore(storePath(dir), { mustExist: true });
  if (E.isLeft(s)) return s.left;
  s.right.close();
  throw new Error(`expected the store in ${dir} to be refused`);
};

interface Case {
  /** What was wrong, as the docs table says it. */
  readonly input: string;
  /** The command line (shown in the docs with temporary paths replaced). */
  readonly argv: () => string[];
  readonly typed?: (argv: readonly string[]) => Promise<OptbenchError> | OptbenchError;
  readonly tag: ErrorTag;
  readonly exit: 1 | 2;
  /** What the message must say (besides being the typed error's message). */
  readonly says: readonly RegExp[];
  /** Also run as a separate process (the others run through `main` in this process, which prints the same). */
  readonly child?: boolean;
}

const out = (name: string) => T('out', name);

const CASES: readonly Case[] = [
  // Names: each refused with the nearest valid name.
  {
    input: 'unknown command',
    argv: () => ['rnu'],
    typed: () => unknown('command', 'rnu', COMMANDS),
    child: true,
    tag: 'UnknownName', exit: 2, says: [/Unknown command 'rnu'/, /Did you mean 'run'\?/] },
  { input: 'unknown option', argv: () => withOpt(grid(out('o')), '--epoch', '3'), tag: 'UnknownName', exit: 2, says: [/Unknown option '--epoch'/, /Did you mean '--epochs'\?/] },
  { input: 'unknown model', child: true, argv: () => withOpt(grid(out('m')), '--models', 'fcn'), tag: 'UnknownName', exit: 2, says: [/Unknown model 'fcn'/, /Did you mean 'fcnn'\?/] },
  { input: 'unknown optimizer', argv: () => withOpt(grid(out('m')), '--optimizers', 'adamm'), tag: 'UnknownName', exit: 2, says: [/optimizer 'adamm'/, /Did you mean 'adam'\?/] },
  { input: 'unknown preset', argv: () => [...grid(out('m')), '--preset', 'tfkeras'], tag: 'UnknownName', exit: 2, says: [/preset 'tfkeras'/, /Did you mean 'tfkeras2'\?/] },
  { input: 'unknown hyperparameter', argv: () => withOpt(grid(out('m')), '--optimizers', 'adam:lrr=0.01'), tag: 'UnknownName', exit: 2, says: [/lrr/, /Did you mean 'lr'\?/] },
  { input: 'unknown task', argv: () => ['task', 'fcm', '--backend', 'cpu', '--out', out('t')], tag: 'UnknownName', exit: 2, says: [/task 'fcm'/, /Did you mean 'fcnn'\?/] },
  { input: 'unknown backend', argv: () => withOpt(grid(out('m')), '--backend', 'cpux'), tag: 'UnknownName', exit: 2, says: [/backend 'cpux'/, /Did you mean 'cpu'\?/] },
  // Hyperparameters.
  { input: 'learning rate 0', argv: () => withOpt(grid(out('h')), '--optimizers', 'sgd:lr=0'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /0/] },
  { input: 'negative learning rate', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=-0.001'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /-0\.001/] },
  { input: 'learning rate not a number', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=fast'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /fast/] },
  { input: 'learning rate NaN', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=NaN'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /NaN/] },
  { input: 'learning rate Infinity', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=Infinity'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /Infinity/] },
  { input: 'beta1 = 1', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:beta1=1'), tag: 'InvalidConfig', exit: 2, says: [/beta1/, /\[0, 1\)|0 <=|below 1|less than 1/] },
  { input: 'beta2 > 1', argv: () => withOpt(grid(out('h')), '--optimizers', 'adamax:beta2=1.5'), tag: 'InvalidConfig', exit: 2, says: [/beta2/, /1\.5/] },
  { input: 'beta1 < 0', argv: () => withOpt(grid(out('h')), '--optimizers', 'nadam:beta1=-0.1'), tag: 'InvalidConfig', exit: 2, says: [/beta1/, /-0\.1/] },
  // Counts.
  { input: '--epochs 0', argv: () => withOpt(grid(out('n')), '--epochs', '0'), tag: 'InvalidConfig', exit: 2, says: [/--epochs must be a positive whole number/, /'0'/] },
  { input: '--epochs -3', child: true, argv: () => withOpt(grid(out('n')), '--epochs', '-3'), tag: 'InvalidConfig', exit: 2, says: [/epochs/, /-3/] },
  { input: '--epochs 1.5', argv: () => withOpt(grid(out('n')), '--epochs', '1.5'), tag: 'InvalidConfig', exit: 2, says: [/--epochs must be a positive whole number/, /1\.5/] },
  { input: '--batch-size abc', argv: () => withOpt(grid(out('n')), '--batch-size', 'abc'), tag: 'InvalidConfig', exit: 2, says: [/--batch-size must be a positive whole number/, /abc/] },
  { input: '--subset 0', argv: () => withOpt(grid(out('n')), '--subset', '0'), tag: 'InvalidConfig', exit: 2, says: [/--subset must be a positive whole number/] },
  { input: '--test-subset 2.5', argv: () => withOpt(grid(out('n')), '--test-subset', '2.5'), tag: 'InvalidConfig', exit: 2, says: [/--test-subset must be a positive whole number/] },
  { input: '--seeds 0', argv: () => [...grid(out('n')), '--seeds', '0'], tag: 'InvalidConfig', exit: 2, says: [/--seeds must be a positive whole number/] },
  { input: '--epochs without a value', argv: () => [...grid(out('n')).filter((a) => a !== '--no-report'), '--epochs'], tag: 'InvalidConfig', exit: 2, says: [/--epochs/] },
  { input: 'run without --models', argv: () => ['run', '--backend', 'cpu', '--out', out('n')], tag: 'InvalidConfig', exit: 2, says: [/needs --models/] },
  // Data.
  { input: 'data directory missing', argv: () => grid(out('d1'), [], T('data', 'nowhere')), tag: 'DatasetMissing', exit: 1, says: [/nowhere/, /--data-dir|--download/] },
  {
    input: 'data directory is a file',
    argv: () => grid(out('d2'), [], join(FIXTURE, 'MD5SUMS')),
    tag: 'DatasetMissing',
    exit: 1,
    says: [/MD5SUMS/],
  },
  {
    input: 'data file unreadable (a directory in its place)',
    argv: () =>
      grid(out('d3'), [], dataDir('unreadable', (d) => {
        rmSync(join(d, 'train-labels-idx1-ubyte.gz'));
        mkdirSync(join(d, 'train-labels-idx1-ubyte.gz'));
      })),
    tag: 'DatasetMissing',
    exit: 1,
    says: [/train-labels/],
  },
  {
    input: 'data file truncated', child: true,
    argv: () =>
      grid(out('d4'), [], dataDir('truncated', (d) => {
        rmSync(join(d, 'MD5SUMS'));
        rewriteGz(join(d, 'train-images-idx3-ubyte.gz'), (raw) => raw.subarray(0, Math.floor(raw.length / 2)));
      })),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/train-images-idx3-ubyte/],
  },
  {
    input: 'data file truncated inside its gzip stream',
    argv: () =>
      grid(out('d5'), [], dataDir('truncated-gz', (d) => {
        rmSync(join(d, 'MD5SUMS'));
        const f = join(d, 't10k-images-idx3-ubyte.gz');
        const gz = readFileSync(f);
        writeFileSync(f, gz.subarray(0, Math.floor(gz.length / 2)));
      })),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/t10k-images-idx3-ubyte/],
  },
  {
    input: 'data file mis-typed (labels stored as float32)',
    argv: () =>
      grid(out('d6'), [], dataDir('mistyped', (d) => {
        rmSync(join(d, 'MD5SUMS'));
        rewriteGz(join(d, 'train-labels-idx1-ubyte.gz'), (raw) => {
          const b = Buffer.from(raw);
          b[2] = 0x0d;
          return b;
        });
      })),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/train-labels-idx1-ubyte/],
  },
  {
    input: 'images and labels swapped',
    argv: () =>
      grid(out('d7'), [], dataDir('swapped', (d) => {
        rmSync(join(d, 'MD5SUMS'));
        const a = join(d, 't10k-images-idx3-ubyte.gz');
        const b = join(d, 't10k-labels-idx1-ubyte.gz');
        const x = readFileSync(a);
        writeFileSync(a, readFileSync(b));
        writeFileSync(b, x);
      })),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/t10k-/],
  },
  {
    input: 'data file fails its checksum',
    argv: () =>
      grid(out('d8'), [], dataDir('checksum', (d) => {
        rewriteGz(join(d, 'train-images-idx3-ubyte.gz'), (raw) => {
          const b = Buffer.from(raw);
          b[1000] = b[1000]! ^ 0x40;
          return b;
        });
      })),
    tag: 'ChecksumMismatch',
    exit: 1,
    says: [/train-images-idx3-ubyte/, /MD5SUMS/],
  },
  // Stores and output directories.
  {
    input: 'store from a newer optbench', child: true,
    argv: () => {
      const dir = out('s1');
      const s = openStore(storePath(dir));
      if (E.isLeft(s)) throw new Error(s.left.message);
      s.right.close();
      const db = new Database(storePath(dir));
      db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(SCHEMA_VERSION + 7));
      db.close();
      return grid(dir);
    },
    tag: 'StoreError',
    exit: 1,
    says: [/newer optbench/, /Upgrade optbench/],
  },
  {
    input: 'store is not an SQLite file',
    argv: () => {
      mkdirSync(out('s2'), { recursive: true });
      writeFileSync(storePath(out('s2')), 'these are my notes, not a database\n'.repeat(200));
      return grid(out('s2'));
    },
    tag: 'StoreError',
    exit: 1,
    says: [/is not an SQLite database/, /--out DIR/],
  },
  {
    input: 'store is another SQLite database',
    argv: () => {
      mkdirSync(out('s3'), { recursive: true });
      const db = new Database(storePath(out('s3')));
      db.exec('CREATE TABLE recipes (name TEXT)');
      db.close();
      return grid(out('s3'));
    },
    tag: 'StoreError',
    exit: 1,
    says: [/not an optbench store/],
  },
  {
    input: '`runs` on a directory without a store',
    argv: () => ['runs', T('data')],
    typed: (argv) => storeOpenError(argv[1]!),
    tag: 'StoreError',
    exit: 1,
    says: [/No optbench store/, /--out DIR/],
  },
  {
    input: '`export` of a store that is not SQLite',
    argv: () => ['export', out('s2'), '--format', 'csv'],
    typed: (argv) => storeOpenError(argv[1]!),
    tag: 'StoreError',
    exit: 1,
    says: [/is not an SQLite database/],
  },
  {
    input: 'output directory under a file',
    argv: () => {
      writeFileSync(T('a-file'), 'x');
      return grid(T('a-file', 'out'));
    },
    tag: 'IoError',
    exit: 1,
    says: [/Cannot write the output directory/, /Choose another with --out DIR/],
  },
  {
    input: 'output directory is a file',
    argv: () => {
      writeFileSync(T('b-file'), 'x');
      return grid(T('b-file'));
    },
    tag: 'IoError',
    exit: 1,
    says: [/Cannot write the output directory/, /--out DIR/],
  },
  {
    input: '`report` of a missing directory', child: true,
    argv: () => ['report', T('nothing-here')],
    typed: (argv) => {
      const r = readRunDir(argv[1]!);
      if (E.isRight(r)) throw new Error('expected a missing run directory to be refused');
      return r.left;
    },
    tag: 'IoError',
    exit: 1,
    says: [/does not exist/, /run directory/],
  },
];

/** Temporary paths out of messages, so that the docs table is the same on every machine. */
const normalise = (s: string): string =>
  s
    .split(tmp)
    .join('<tmp>')
    .split(ROOT + '/')
    .join('')
    .split(ROOT)
    .join('.')
    // Where a quota runs out depends on how long the host's name is (the store keeps it): keep the table stable.
    .replace(/could not write while .*? \(/, 'could not write while <recording an event> (');

interface Observed {
  readonly c: Case;
  readonly argv: string[];
  readonly typed: OptbenchError;
  readonly ran: Ran;
}

let observed: Observed[] = [];

const row = (input: string, argv: readonly string[], tag: string, exit: number, message: string) =>
  `| ${input} | \`optbench ${normalise(argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')).replace(/\|/g, '\\|')}\` | ${tag} | ${exit} | ${normalise(message).replace(/\|/g, '\\|')} |`;

const FULL_DISK_INPUT = 'disk full while the grid writes its store (simulated with the quota OPTBENCH_STORE_MAX_BYTES)';

const table = (rows: readonly string[]): string =>
  [
    '# Bad inputs and what optbench says',
    '',
    'Every row is a case of `spec/bad-input.spec.ts`, which checks that the CLI ends with the typed error shown',
    '(tag of `OptbenchError`), prints its message as one line without a stack trace, and exits with the code shown',
    '(2: usage or configuration, 1: failed at run time). The spec checks this file against its cases; after',
    'changing a message, rewrite it with `OPTBENCH_WRITE_DOCS=1 npx mocha spec/bad-input.spec.ts`.',
    '`<tmp>` stands for the test\'s temporary directory; `...` abbreviates the fixed grid options',
    '`--models fcnn --optimizers sgd --epochs 1 --subset 50 --test-subset 50 --batch-size 50 --data-dir ... --dataset fashion-mini --backend cpu --no-report`.',
    '',
    '| Bad input | Command | Error | Exit | Message |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');

/** The fixed grid options are abbreviated in the table, keeping what each case changed. */
const abbreviate = (argv: readonly string[]): string[] => {
  const base = grid('OUT');
  const a = [...argv];
  if (a[0] !== 'run') return a;
  const outAt = a.indexOf('--out');
  const outDir = outAt >= 0 ? a[outAt + 1]! : '';
  const changed: string[] = [];
  for (let i = 1; i < a.length; i++) {
    const k = a[i]!;
    if (k === '--out') {
      i++;
      continue;
    }
    const j = base.indexOf(k);
    const v = a[i + 1];
    const takesValue = j >= 0 && j + 1 < base.length && !base[j + 1]!.startsWith('--');
    if (j >= 0 && !takesValue) continue;
    if (j >= 0 && (base[j + 1] === v || (k === '--data-dir' && v === FIXTURE))) {
      i++;
      continue;
    }
    if (k === '--data-dir') {
      changed.push(k, v ?? '');
      i++;
      continue;
    }
    changed.push(k);
    if (v !== undefined && !v.startsWith('--')) {
      changed.push(v);
      i++;
    }
  }
  return ['run', '...', ...changed, '--out', outDir];
};

describe('bad input (CLI)', function () {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-bad-'));
  });
  after(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('every bad input is a typed error in the library and one clear line from the CLI, with the right exit code', async () => {
    const prepared = CASES.map((c) => ({ c, argv: c.argv() }));
    // Sequentially: a grid owns SIGINT and the output streams while it runs.
    const typed: OptbenchError[] = [];
    const ran: Ran[] = [];
    for (const { c, argv } of prepared) {
      typed.push(await (c.typed ?? gridError)(argv));
      ran.push(await inProcess(argv));
    }
    const children = prepared.filter((p) => p.c.child === true);
    const childRan = await pool(children, 2, ({ argv }) => cli(argv));
    observed = prepared.map((p, i) => ({ ...p, typed: typed[i]!, ran: ran[i]! }));
    const problems: string[] = [];
    const check = (o: Observed, how: string) => {
      const what = `${o.c.input} (${how}: optbench ${o.argv.join(' ')})`;
      const t = o.typed;
      if (!isOptbenchError(t)) problems.push(`${what}: not an OptbenchError: ${String(t)}`);
      if (t._tag !== o.c.tag) problems.push(`${what}: tag ${t._tag}, expected ${o.c.tag} (${t.message})`);
      for (const re of o.c.says) if (!re.test(t.message)) problems.push(`${what}: message does not match ${re}: ${t.message}`);
      if (o.ran.code !== o.c.exit) problems.push(`${what}: exit ${o.ran.code}, expected ${o.c.exit}; stderr: ${o.ran.stderr}`);
      const lines = o.ran.stderr.trimEnd().split('\n');
      // Data errors may follow progress lines; the error is the last line, and there is exactly one.
      if (lines.at(-1) !== `optbench: ${t.message}`)
        problems.push(`${what}: CLI printed ${JSON.stringify(lines.at(-1))}, expected the typed message ${JSON.stringify(t.message)}`);
      if (lines.filter((l) => l.startsWith('optbench: ')).length !== 1) problems.push(`${what}: more than one error line: ${o.ran.stderr}`);
      if (/^\s+at /m.test(o.ran.stderr) || /Error: /.test(o.ran.stderr)) problems.push(`${what}: a stack trace or raw Error: ${o.ran.stderr}`);
      if (o.ran.stdout !== '') problems.push(`${what}: wrote to stdout: ${o.ran.stdout}`);
      if (t._tag === 'InternalError') problems.push(`${what}: an InternalError is not a message for a user: ${t.message}`);
    };
    for (const o of observed) check(o, 'main');
    children.forEach((p, i) => check({ ...p, typed: typed[prepared.indexOf(p)]!, ran: childRan[i]! }, 'process'));
    assert.deepEqual(problems, []);
  });

  it('a full disk while the grid writes its store: exit 1, says to free space and rerun; nothing committed is lost', async () => {
    const dir = out('full');
    // 512-byte pages make the store grow with every run, so a quota a little above its size runs out mid-grid.
    mkdirSync(dir, { recursive: true });
    const db = new Database(storePath(dir));
    db.pragma('page_size = 512');
    db.exec('VACUUM');
    db.close();
    const s = openStore(storePath(dir));
    if (E.isLeft(s)) throw new Error(s.left.message);
    s.right.close();
    const size = statSync(storePath(dir)).size;
    const argv = withOpt(grid(dir), '--optimizers', 'sgd,adam,rmsprop,adagrad,adadelta,adamax,nadam');
    const ran = await cli(argv, { OPTBENCH_STORE_MAX_BYTES: String(size + 4 * 512) });
    const last = ran.stderr.trimEnd().split('\n').at(-1) ?? '';
    assert.equal(ran.code, 1, ran.stderr);
    assert.match(last, /^optbench: .*optbench\.sqlite: could not write while .*The disk is probably full: free some space and run the same command again/);
    assert.doesNotMatch(ran.stderr, /^\s+at /m);
    // What was committed before is intact and readable: every run the store holds as done has its epoch,
    // and its run file says the same.
    const store = openStore(storePath(dir), { mustExist: true });
    if (E.isLeft(store)) throw new Error(store.left.message);
    const rows = store.right.listRuns();
    const records = store.right.toRunRecords();
    store.right.close();
    if (E.isLeft(rows) || E.isLeft(records)) throw new Error('the store could not be read after the disk filled up');
    const done = rows.right.filter((r) => r.status === 'done');
    assert.ok(done.length >= 1, `no run finished before the quota ran out: ${ran.stderr}`);
    assert.ok(done.length < 7, 'the quota never ran out');
    for (const r of done) {
      assert.equal(r.epochsDone, 1);
      const rec: RunRecord = records.right.find((x: RunRecord) => x.runId === r.runId)!;
      const file = JSON.parse(readFileSync(join(dir, 'runs', `${r.spec.model}-${r.spec.optimizer.name}-s0-${r.runId}.json`), 'utf8')) as { epochs: { test: { loss: number } }[] };
      assert.equal(file.epochs[0]!.test.loss, rec.epochs[0]!.test!.loss);
    }
    observed.push({
      c: { input: FULL_DISK_INPUT, argv: () => argv, tag: 'IoError', exit: 1, says: [] },
      argv,
      typed: { _tag: 'IoError', file: storePath(dir), message: last.replace(/^optbench: /, '') },
      ran,
    });
  });

  it('`export --out` on a full disk (/dev/full) and an unknown export format', async () => {
    const dir = out('full');
    const [full, format] = await Promise.all([
      cli(['export', dir, '--format', 'json', '--out', '/dev/full']),
      cli(['export', dir, '--format', 'xml']),
    ]);
    assert.equal(full.code, 1);
    assert.equal(full.stderr, 'optbench: Cannot write the export to /dev/full: the disk is full: free some space and run the same command again (finished work is kept); choose another --out FILE, or leave out --out to print it.\n');
    assert.equal(format.code, 2);
    assert.equal(format.stderr, "optbench: Unknown export format 'xml'. Use --format csv or --format json.\n");
    const msg = (r: Ran) => r.stderr.trimEnd().replace(/^optbench: /, '');
    observed.push(
      { c: { input: '`export --out` on a full disk', argv: () => [], tag: 'IoError', exit: 1, says: [] }, argv: ['export', dir, '--format', 'json', '--out', '/dev/full'], typed: { _tag: 'IoError', file: '/dev/full', code: 'ENOSPC', message: msg(full) }, ran: full },
      { c: { input: 'unknown export format', argv: () => [], tag: 'InvalidConfig', exit: 2, says: [] }, argv: ['export', dir, '--format', 'xml'], typed: { _tag: 'InvalidConfig', path: 'format', message: msg(format) }, ran: format },
    );
  });

  it('docs/bad-inputs.md lists every case with the error it gets', () => {
    assert.ok(observed.length >= CASES.length + 3, 'the cases above ran');
    const text = table(observed.map((o) => row(o.c.input, abbreviate(o.argv), o.typed._tag, o.ran.code ?? -1, o.typed.message)));
    if (process.env.OPTBENCH_WRITE_DOCS === '1') writeFileSync(DOC, text);
    assert.equal(readFileSync(DOC, 'utf8'), text, 'docs/bad-inputs.md is out of date: run OPTBENCH_WRITE_DOCS=1 npx mocha spec/bad-input.spec.ts');
  });
});

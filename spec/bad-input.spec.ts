/**
 * Every bad input the CLI can get: each must end as a typed OptbenchError whose message says what was
 * wrong and what to do, printed as one line without a stack trace, with exit code 2 (usage, config) or
 * 1 (run time). The cases here are also the first table in docs/bad-inputs.md; the second table lists
 * inputs that are no error, each with what optbench does and the test that checks it. The themed specs
 * imported below check the rest (output directories and stores, training, properties over families of
 * inputs) and add their rows; importing them runs them first. The last test checks that the page is
 * what these tests observed (OPTBENCH_WRITE_DOCS=1 rewrites it).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { everyRunFailed, executeGrid, parseRunCommand, parseTaskCommand } from '../pipelines/cli/grid-command.js';
import { COMMANDS } from '../pipelines/cli/main.js';
import { parseSweepCommand } from '../pipelines/cli/sweep-args.js';
import { isOptbenchError, printable, unknown, type ErrorTag, type OptbenchError } from '../lib/errors.js';
import { openStore, storePath } from '../lib/store/store.js';
import { SCHEMA_VERSION } from '../lib/store/schema.js';
import { readRunDir } from '../lib/report/read.js';
import { parseFormats } from '../lib/report/render.js';
import type { RunRecord } from '../lib/train/record.js';
import {
  behaviourRows,
  cli,
  errorRows,
  FIXTURE,
  fixtureCopy,
  grid,
  inProcess,
  normaliser,
  relabelled,
  resized,
  rewriteGz,
  ROOT,
  withOpt,
  type Ran,
} from './support/bad-input.js';
// In the order mocha loads them in a whole run (alphabetical), so that the table's rows come out in the
// same order whether this file runs alone or with every spec.
import './bad-input-property.spec.js';
import './bad-input-rundir.spec.js';
import './bad-input-serve.spec.js';
import './bad-input-training.spec.js';

const DOC = join(ROOT, 'docs', 'bad-inputs.md');

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

/** A copy of the fixture data set under <tmp>/data, changed by `change`. */
const dataDir = (name: string, change: (dir: string) => void, withSums = true): string => fixtureCopy(T('data', name), change, withSums);

/** The typed error a grid command ends with, computed in this process through the library. */
const gridError = async (argv: readonly string[]): Promise<OptbenchError> => {
  const [command, ...rest] = argv;
  if (command === 'sweep') {
    const sweep = await parseSweepCommand(rest);
    if (E.isLeft(sweep)) return sweep.left;
    throw new Error(`expected ${argv.join(' ')} to be refused`);
  }
  const cmd = await (command === 'task' ? parseTaskCommand(rest) : parseRunCommand(rest));
  if (E.isLeft(cmd)) return cmd.left;
  const done = await executeGrid(cmd.right);
  if (E.isLeft(done)) return done.left;
  const failed = everyRunFailed(done.right.runs);
  if (failed !== null) return failed;
  throw new Error(`expected ${argv.join(' ')} to fail, but it succeeded`);
};

const storeOpenError = (dir: string): OptbenchError => {
  const s = openStore(storePath(dir), { readonly: true });
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
  { input: 'unknown precision', argv: () => [...grid(out('m')), '--precision', 'fp16'], tag: 'InvalidConfig', exit: 2, says: [/--precision must be one of fp32, bf16/, /'fp16'/] },
  { input: 'bf16 on the cpu backend', argv: () => [...grid(out('m')), '--precision', 'bf16'], tag: 'BackendUnavailable', exit: 1, says: [/needs the 'native' backend/, /--backend native/] },
  // Hyperparameters.
  { input: 'learning rate 0', argv: () => withOpt(grid(out('h')), '--optimizers', 'sgd:lr=0'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /0/] },
  { input: 'negative learning rate', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=-0.001'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /-0\.001/] },
  { input: 'learning rate not a number', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=fast'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /fast/] },
  { input: 'learning rate NaN', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=NaN'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /NaN/] },
  { input: 'learning rate Infinity', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:lr=Infinity'), tag: 'InvalidConfig', exit: 2, says: [/lr/, /Infinity/] },
  { input: 'beta1 = 1', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:beta1=1'), tag: 'InvalidConfig', exit: 2, says: [/beta1/, /\[0, 1\)|0 <=|below 1|less than 1/] },
  { input: 'beta2 > 1', argv: () => withOpt(grid(out('h')), '--optimizers', 'adamax:beta2=1.5'), tag: 'InvalidConfig', exit: 2, says: [/beta2/, /1\.5/] },
  { input: 'beta1 < 0', argv: () => withOpt(grid(out('h')), '--optimizers', 'nadam:beta1=-0.1'), tag: 'InvalidConfig', exit: 2, says: [/beta1/, /-0\.1/] },
  // Learning-rate schedules.
  { input: 'unknown schedule', argv: () => withOpt(grid(out('h')), '--optimizers', 'sgd:schedule=exponential'), tag: 'InvalidConfig', exit: 2, says: [/schedule must be one of constant, cosine, linear, step/, /'exponential'/] },
  { input: 'a warm-up in days', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:warmup=2days'), tag: 'InvalidConfig', exit: 2, says: [/warmup must be a whole number of steps/, /'2days'/] },
  { input: 'a hyperparameter in --schedule', argv: () => [...grid(out('h')), '--schedule', 'cosine,lr=0.1'], tag: 'InvalidConfig', exit: 2, says: [/--schedule/, /'lr' is not a schedule key/] },
  { input: 'a decaying schedule for Schedule-Free AdamW', argv: () => withOpt(grid(out('h')), '--optimizers', 'adamw-schedulefree:schedule=cosine'), tag: 'InvalidConfig', exit: 2, says: [/takes no 'cosine' schedule/, /warm-up/] },
  { input: 'a warm-up as long as the run (every run of the grid fails)', argv: () => withOpt(grid(out('w')), '--optimizers', 'sgd:warmup=1epochs'), tag: 'InvalidConfig', exit: 1, says: [/warm-up \(1 step\) must be shorter than the run \(1 step: 1 epoch of 1\)/] },
  // Targets (time to a held-out target).
  { input: 'an accuracy target in percent', argv: () => [...grid(out('g')), '--target', 'accuracy=88'], tag: 'InvalidConfig', exit: 2, says: [/--target: accuracy is a fraction from 0 to 1, got 88/, /accuracy=0\.88/] },
  { input: 'a target metric that is not accuracy or loss', argv: () => [...grid(out('g')), '--target', 'error=0.1'], tag: 'InvalidConfig', exit: 2, says: [/'error' is not a metric a target can judge/, /accuracy=0\.88 or loss=30/] },
  { input: 'a target for a model the grid does not train', argv: () => [...grid(out('g')), '--target', 'vae1:loss=30'], tag: 'InvalidConfig', exit: 2, says: [/'vae1' is not a model of this grid \(fcnn\)/] },
  { input: 'an accuracy target for a VAE', argv: () => [...withOpt(grid(out('g')), '--models', 'vae1'), '--target', 'vae1:accuracy=0.9'], tag: 'InvalidConfig', exit: 2, says: [/vae1 is a VAE, which has no accuracy/, /vae1:loss=30/] },
  { input: '--holdout without --target', argv: () => [...grid(out('g')), '--holdout', '100'], tag: 'InvalidConfig', exit: 2, says: [/--holdout keeps training images out of training to judge a target on: give --target too/] },
  { input: '--holdout 0', argv: () => [...grid(out('g')), '--target', 'default', '--holdout', '0'], tag: 'InvalidConfig', exit: 2, says: [/--holdout must be a positive whole number/, /'0'/] },
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
  {
    input: 'unknown report format',
    argv: () => ['report', BASE(), '--format', 'html,svgz', '--out', T('format-report')],
    typed: (argv) => {
      const r = parseFormats([argv[3]!]);
      if (E.isRight(r)) throw new Error('expected an unknown report format to be refused');
      return r.left;
    },
    tag: 'UnknownName',
    exit: 2,
    says: [/Unknown report format 'svgz'/, /Did you mean 'svg'\?/, /html, md, png, svg, csv, tex/],
  },
  // Output directories: optbench never overwrites a file it did not write.
  { input: 'empty --out', child: true, argv: () => withOpt(grid(out('e')), '--out', ''), tag: 'InvalidConfig', exit: 2, says: [/--out '' is empty/] },
  { input: 'blank --out', argv: () => withOpt(grid(out('e')), '--out', '   '), tag: 'InvalidConfig', exit: 2, says: [/--out '   ' is empty/] },
  {
    input: 'output directory holds files optbench did not write',
    argv: () => {
      mkdirSync(T('mine'), { recursive: true });
      writeFileSync(T('mine', 'results.md'), 'my results\n');
      writeFileSync(T('mine', 'report.html'), '<p>my report</p>\n');
      return grid(T('mine'));
    },
    tag: 'InvalidConfig',
    exit: 2,
    says: [/not an optbench run directory/, /--force/],
  },
  // One protocol per run directory (<tmp>/out/base: one epoch of the fixed grid, trained before the cases).
  {
    input: 'a run directory of another protocol (it has 1 epoch, 50 images; asked 2 epochs, 100)',
    argv: () => withOpt(withOpt(grid(BASE()), '--epochs', '2'), '--subset', '100'),
    tag: 'InvalidConfig',
    exit: 2,
    says: [/holds 1 run of another protocol/, /epochs 2 \(not 1\), training images 100 \(not 50\)/],
  },
  // Classes and image shapes are the data set's, checked against the models before training.
  {
    input: 'training labels outside the classes (12 and 255; a data set that declares none)',
    child: true,
    argv: () => withOpt(grid(out('c1'), [], dataDir('labels-train', (d) => relabelled(join(d, 'train-labels-idx1-ubyte.gz'), { 3: 12, 7: 255 }), false)), '--dataset', 'my-set'),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/train-labels-idx1-ubyte/, /label 255/, /output only 10 classes/],
  },
  {
    input: 'test labels outside the classes (Fashion-MNIST declares 10)',
    argv: () => grid(out('c2'), [], dataDir('labels-test', (d) => relabelled(join(d, 't10k-labels-idx1-ubyte.gz'), { 5: 10 }), false)),
    tag: 'CorruptIdx',
    exit: 1,
    says: [/t10k-labels-idx1-ubyte/, /label 10/, /fashion-mini has only 10 classes/],
  },
  {
    input: 'images of another size (32x32) for a model that takes 28x28',
    child: true,
    argv: () =>
      withOpt(
        grid(out('c3'), [], dataDir('32x32', (d) => ['train', 't10k'].forEach((f) => resized(join(d, `${f}-images-idx3-ubyte.gz`), 32)), false)),
        '--dataset',
        'my-32',
      ),
    tag: 'InvalidConfig',
    exit: 2,
    says: [/fcnn needs 28x28x1 images but these are 32x32x1/, /data check/],
  },
  // Every count has a bound, checked before anything is planned or written.
  { input: '--seeds 100000000000', argv: () => [...grid(out('b1')), '--seeds', '100000000000'], tag: 'InvalidConfig', exit: 2, says: [/--seeds must be at most 1,000/] },
  { input: '--batch-size 100000000', argv: () => withOpt(grid(out('b2')), '--batch-size', '100000000'), tag: 'InvalidConfig', exit: 2, says: [/at most 1,000,000/] },
  {
    input: 'a grid of more than 10,000 runs',
    argv: () => withOpt(withOpt([...grid(out('b3')), '--seeds', '1000'], '--models', 'fcnn,scnn'), '--optimizers', 'all'),
    tag: 'InvalidConfig',
    exit: 2,
    says: [/26,000 runs \(2 models x 13 optimizers x 1,000 seeds\)/, /at most 10,000/],
  },
  {
    input: '`sweep --trials 100000`',
    argv: () => ['sweep', '--model', 'fcnn', '--optimizer', 'adam', '--space', 'lr=log(1e-4,1e-1)', '--trials', '100000', '--backend', 'cpu', '--out', out('b4')],
    tag: 'InvalidConfig',
    exit: 2,
    says: [/--trials must be at most 10,000/],
  },
  // Stores: what is not a complete optbench store is refused, never re-initialised.
  {
    input: '`runs` on a 0-byte store (runs/*.json hold the runs)',
    argv: () => {
      cpSync(BASE(), T('zero'), { recursive: true });
      writeFileSync(storePath(T('zero')), '');
      return ['runs', T('zero')];
    },
    typed: (argv) => storeOpenError(argv[1]!),
    tag: 'StoreError',
    exit: 1,
    says: [/is empty \(0 bytes\)/, /optbench rebuild/],
  },
  {
    input: 'an SQLite database without tables as the store',
    argv: () => {
      mkdirSync(out('s4'), { recursive: true });
      const db = new Database(storePath(out('s4')));
      db.pragma('user_version = 7'); // a valid header, and no table
      db.close();
      return grid(out('s4'));
    },
    tag: 'StoreError',
    exit: 1,
    says: [/not an optbench store/],
  },
  // Hyperparameters and divergence.
  { input: 'adam eps=0', argv: () => withOpt(grid(out('h')), '--optimizers', 'adam:eps=0'), tag: 'InvalidConfig', exit: 2, says: [/adam eps=0 is out of range: eps must be a finite number > 0/, /0\/0/] },
  {
    input: 'a learning rate that makes the loss explode (every run of the grid fails)',
    child: true,
    argv: () => withOpt(withOpt(withOpt(grid(out('lr')), '--optimizers', 'sgd:lr=1e9'), '--subset', '100'), '--batch-size', '25'),
    tag: 'Diverged',
    exit: 1,
    says: [/Every run of the grid failed \(1 run: Diverged\)/, /fcnn\/sgd:lr=1e9 diverged: the training loss reached .* at epoch 1, step [2-4], more than 1000 times/],
  },
  // Arguments.
  { input: 'an option given twice', argv: () => [...grid(out('a')), '--epochs', '2'], tag: 'InvalidConfig', exit: 2, says: [/Option '--epochs' is given 2 times \('1', '2'\): give it once/] },
  { input: 'a stray argument', argv: () => [...grid(out('a')), 'scnn'], tag: 'InvalidConfig', exit: 2, says: [/Unexpected argument 'scnn': optbench run takes no arguments/] },
  { input: '--dataset a path, not a name', argv: () => withOpt(grid(out('a')), '--dataset', '../../../x'), tag: 'InvalidConfig', exit: 2, says: [/'..\/..\/..\/x' is not a data-set name/, /--data-dir/] },
  {
    input: 'control characters in a name (a newline and a terminal escape)',
    child: true,
    argv: () => withOpt(grid(out('a')), '--models', 'fc\nnn\u001b[2J'),
    tag: 'UnknownName',
    exit: 2,
    says: [/Unknown model 'fc\\nnn\\u001b\[2J'/],
  },
  // Other outputs.
  {
    input: '`export --out` an empty path',
    argv: () => ['export', BASE(), '--format', 'csv', '--out', ''],
    typed: () => ({ _tag: 'InvalidConfig', path: 'out', message: "--out '' is empty: give the file to write, or leave out --out to print the export." }),
    tag: 'InvalidConfig',
    exit: 2,
    says: [/is empty/],
  },
  {
    input: '`export --out` a file that exists',
    argv: () => {
      writeFileSync(T('notes.csv'), 'my notes\n');
      return ['export', BASE(), '--format', 'csv', '--out', T('notes.csv')];
    },
    typed: (argv) => ({ _tag: 'InvalidConfig', path: 'out', message: `${argv[5]} exists: optbench does not overwrite it. Choose another --out FILE, or add --force to replace it.` }),
    tag: 'InvalidConfig',
    exit: 2,
    says: [/does not overwrite it/, /--force/],
  },
];

/** <tmp>/out/base: a finished run directory of the fixed grid (one epoch of FCNN with SGD). */
const BASE = () => out('base');

/** Temporary paths out of messages, so that the docs table is the same on every machine. */
const normalise = (s: string): string =>
  normaliser(() => tmp)(s)
    // Where a quota runs out depends on how long the host's name is (the store keeps it): keep the table stable.
    .replace(/could not write while .*? \(/, 'could not write while <recording an event> (')
    // The loss a diverging run reaches differs in its last digits between machines.
    .replace(/the training loss reached \S+ at epoch 1, step \d/, 'the training loss reached <huge> at epoch 1, step <2-4>');

/** An argument as a shell would need it: quoted when empty or spaced, control characters escaped. */
const shellArg = (a: string): string => (a === '' || /\s/.test(a) ? `'${printable(a)}'` : printable(a));

const cell = (s: string): string => s.replace(/\|/g, '\\|');

interface Observed {
  readonly c: Case;
  readonly argv: string[];
  readonly typed: OptbenchError;
  readonly ran: Ran;
}

let observed: Observed[] = [];

const command = (argv: readonly string[]): string => `\`optbench ${cell(normalise(argv.map(shellArg).join(' ')))}\``;

const row = (input: string, argv: readonly string[], tag: string, exit: number, message: string) =>
  `| ${input} | ${command(argv)} | ${tag} | ${exit} | ${cell(normalise(printable(message)))} |`;

const FULL_DISK_INPUT = 'disk full while the grid writes its store (simulated with the quota OPTBENCH_STORE_MAX_BYTES)';

const table = (rows: readonly string[], behaviours: readonly string[]): string =>
  [
    '# Bad inputs and what optbench says',
    '',
    'Every row of the first table is a case of `spec/bad-input.spec.ts` (or of the themed `spec/bad-input-*.spec.ts`),',
    'which checks that the CLI ends with the typed error shown (tag of `OptbenchError`), prints its message as one line',
    'without a stack trace, and exits with the code shown (2: usage or configuration, 1: failed at run time). The',
    'second table lists inputs that are no error, with what optbench does and the test that checks it. The spec',
    'checks this file against what the tests observed; after changing a message, rewrite it with',
    '`OPTBENCH_WRITE_DOCS=1 npx mocha spec/bad-input.spec.ts`.',
    '`<tmp>` stands for the test\'s temporary directory; `...` abbreviates the fixed grid options',
    '`--models fcnn --optimizers sgd --epochs 1 --subset 50 --test-subset 50 --batch-size 50 --data-dir ... --dataset fashion-mini --backend cpu --no-report`.',
    '',
    '| Bad input | Command | Error | Exit | Message |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '## Inputs that are not errors',
    '',
    '| Input | Command | What optbench does | Exit | Test |',
    '| --- | --- | --- | --- | --- |',
    ...behaviours,
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
    // Rows of the themed specs come with paths already normalised (the fixture as fixtures/fashion-mini).
    if (j >= 0 && (base[j + 1] === v || (k === '--data-dir' && (v === FIXTURE || v === normalise(FIXTURE))))) {
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
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-bad-'));
    const ran = await cli(grid(BASE()));
    assert.equal(ran.code, 0, ran.stderr);
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
    const s = openStore(storePath(dir));
    if (E.isLeft(s)) throw new Error(s.left.message);
    s.right.close();
    const db = new Database(storePath(dir));
    db.pragma('journal_mode = DELETE'); // a WAL database keeps its page size
    db.pragma('page_size = 512');
    db.exec('VACUUM');
    db.pragma('journal_mode = WAL');
    db.close();
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

  it('docs/bad-inputs.md lists every case with the error it gets, and every input that is no error with what optbench does', () => {
    assert.ok(observed.length >= CASES.length + 3, 'the cases above ran');
    assert.ok(errorRows.length > 0 && behaviourRows.length > 0, 'the themed bad-input specs ran');
    const text = table(
      [
        ...observed.map((o) => row(o.c.input, abbreviate(o.argv), o.typed._tag, o.ran.code ?? -1, o.typed.message)),
        ...errorRows.map((r) => row(r.input, abbreviate(r.argv), r.tag, r.exit, r.message)),
      ],
      behaviourRows.map((b) => `| ${b.input} | ${command(abbreviate(b.argv))} | ${cell(b.does)} | ${b.exit} | ${cell(b.test)} |`),
    );
    if (process.env.OPTBENCH_WRITE_DOCS === '1') writeFileSync(DOC, text);
    assert.equal(readFileSync(DOC, 'utf8'), text, 'docs/bad-inputs.md is out of date: run OPTBENCH_WRITE_DOCS=1 npx mocha spec/bad-input.spec.ts');
  });
});

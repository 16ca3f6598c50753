/**
 * The optbench command as a child process, for the specs that test it end to end: run it to completion
 * (`cli`), or start it and watch it (`start`, `until`), plus the small fixture grid those specs train.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const MAIN = join(ROOT, 'pipelines', 'cli', 'main.ts');
export const FIXTURE = join(ROOT, 'fixtures', 'fashion-mini');

export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the process closed. */
  readonly at: number;
}

/** A running child: its output so far, and its exit. */
export interface Child {
  readonly proc: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exit: Promise<Exit>;
}

/** Starts `node [nodeFlags] --import tsx script ...args` in the project root. */
export const startNode = (script: string, args: readonly string[], opts: { nodeFlags?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): Child => {
  const proc = spawn(process.execPath, [...(opts.nodeFlags ?? []), '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    env: opts.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const c: Child = {
    proc,
    stdout: '',
    stderr: '',
    exit: new Promise((done, failed) => {
      proc.on('error', failed);
      proc.on('close', (code, signal) => done({ code, signal, at: Date.now() }));
    }),
  };
  proc.stdout!.on('data', (d: Buffer) => (c.stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (c.stderr += d.toString()));
  return c;
};

/** Starts `optbench ...argv`. */
export const start = (argv: readonly string[], env?: Record<string, string>): Child =>
  startNode(MAIN, argv, env === undefined ? {} : { env: { ...process.env, ...env } });

/** Runs `optbench ...argv` to the end. */
export const cli = async (argv: readonly string[], env?: Record<string, string>): Promise<Ran> => {
  const c = start(argv, env);
  const { code } = await c.exit;
  return { code, stdout: c.stdout, stderr: c.stderr };
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails if the child exits first or the time runs out. */
export const until = async (what: string, cond: () => boolean, child: Child, timeoutMs = 240_000): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (child.proc.exitCode !== null || child.proc.signalCode !== null) throw new Error(`the command ended before ${what}: ${child.stderr}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}: ${child.stderr}`);
    await sleep(25);
  }
};

export interface FixtureGrid {
  readonly optimizers: string;
  readonly epochs: number;
  readonly subset: number;
  readonly testSubset: number;
  readonly batchSize: number;
}

/** `optbench run` of FCNN on the fixture data set, on the cpu backend, into `out`; then `extra`. */
export const fixtureGridArgs = (out: string, g: FixtureGrid, extra: readonly string[] = []): string[] => [
  'run',
  '--models',
  'fcnn',
  '--optimizers',
  g.optimizers,
  '--epochs',
  String(g.epochs),
  '--subset',
  String(g.subset),
  '--test-subset',
  String(g.testSubset),
  '--batch-size',
  String(g.batchSize),
  '--data-dir',
  FIXTURE,
  '--dataset',
  'fashion-mini',
  '--backend',
  'cpu',
  '--out',
  out,
  ...extra,
];

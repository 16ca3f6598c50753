/**
 * A redis-server of the test's own: on a free loopback port, in a temporary directory, stopped after.
 * Never a fixed port and never the system's service, so that specs can run beside anything else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisOptions {
  /** Require this password (`requirepass`). */
  readonly password?: string;
  /** Append-only file on, fsync'd on every write: a restart loses nothing acknowledged. */
  readonly aof?: boolean;
}

export interface TestRedis {
  readonly port: number;
  readonly dir: string;
  /** `redis://127.0.0.1:PORT` (with the password when there is one). */
  readonly url: string;
  /** SIGKILL, as a crash or a power cut would end it. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (with AOF, with every acknowledged write). */
  restart(): Promise<void>;
  /** Stops it and removes its directory. */
  stop(): Promise<void>;
}

export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      s.close(() => resolve(port));
    });
  });

const launch = (port: number, dir: string, opts: RedisOptions): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const args = [
      '--port', String(port),
      '--bind', '127.0.0.1',
      '--dir', dir,
      '--save', '',
      '--daemonize', 'no',
      '--appendonly', opts.aof ? 'yes' : 'no',
      '--appendfsync', 'always',
      ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    ];
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (/Ready to accept connections/.test(out)) {
        proc.stdout!.off('data', onData);
        proc.stdout!.resume();
        resolve(proc);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('error', (e) => reject(new Error(`cannot start redis-server (is it installed? scripts/setup.sh installs it): ${e.message}`)));
    proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code} before it was ready:\n${out}`)));
  });

const ended = (proc: ChildProcess): Promise<void> =>
  proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));

export const startRedis = async (opts: RedisOptions = {}): Promise<TestRedis> => {
  const dir = mkdtempSync(join(tmpdir(), 'optbench-redis-'));
  let port = 0;
  let proc: ChildProcess | undefined;
  // Another process may take the free port between our probe and redis's bind: try a few.
  for (let tries = 0; proc === undefined; tries++) {
    port = await freePort();
    try {
      proc = await launch(port, dir, opts);
    } catch (e) {
      if (tries >= 4) throw e;
    }
  }
  let current: ChildProcess = proc;
  const auth = opts.password !== undefined ? `:${encodeURIComponent(opts.password)}@` : '';
  return {
    port,
    dir,
    url: `redis://${auth}127.0.0.1:${port}`,
    async kill() {
      current.kill('SIGKILL');
      await ended(current);
    },
    async restart() {
      current = await launch(port, dir, opts);
    },
    async stop() {
      current.kill('SIGTERM');
      await ended(current);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

/**
 * README's "On several machines" example, run as written: its three commands, with only what a test must
 * change (a free port instead of 6379, this machine for HOST, a temporary --out, and the optbench of
 * this checkout for `npx optbench`). It trains on the real data set (setup.sh installs it).
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAIN, ROOT, sleep, startNode, type Child } from './support/cli.js';
import { freePort } from './support/redis.js';

/** The lines of the first sh block after a heading. */
const block = (md: string, heading: string): string[] => {
  const from = md.indexOf(heading);
  assert.ok(from >= 0, `README has no '${heading}'`);
  const m = /```sh\n([\s\S]*?)```/.exec(md.slice(from));
  assert.ok(m, `no sh block under '${heading}'`);
  return m[1]!.trim().split('\n').map((l) => l.replace(/\s+#.*$/, '').trim());
};

/** Splits a command line into words (the block uses no quotes). */
const words = (line: string): string[] => line.split(/\s+/);

describe("README: On several machines", function () {
  this.timeout(600_000);

  it('runs as written: Redis, a worker, and the grid with --queue', async () => {
    const lines = block(readFileSync(join(ROOT, 'README.md'), 'utf8'), '## On several machines');
    assert.equal(lines.length, 3, lines.join('\n'));
    const [redisLine, workerLine, runLine] = lines as [string, string, string];
    assert.match(redisLine, /^redis-server /);
    assert.match(workerLine, /^npx optbench worker /);
    assert.match(runLine, /^npx optbench run .*--queue /);
    const port = String(await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'optbench-readme-queue-'));
    const adapt = (line: string): string[] =>
      words(line.replace(/\b6379\b/g, port).replace(/\bHOST\b/g, '127.0.0.1').replace('runs/fcnn-queue', join(dir, 'out')));
    // Redis in the temporary directory (its append-only file goes to its working directory).
    const [cmd, ...args] = adapt(redisLine);
    const redis = spawn(cmd!, [...args, '--bind', '127.0.0.1'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let redisOut = '';
    redis.stdout!.on('data', (d: Buffer) => (redisOut += d.toString()));
    const fromNpx = (line: string[]): string[] => {
      assert.deepEqual(line.slice(0, 2), ['npx', 'optbench']);
      return line.slice(2);
    };
    let worker: Child | undefined;
    try {
      for (let t = 0; !/Ready to accept connections/.test(redisOut); t++) {
        assert.ok(t < 200, `redis-server did not start:\n${redisOut}`);
        await sleep(50);
      }
      worker = startNode(MAIN, fromNpx(adapt(workerLine)));
      const run = startNode(MAIN, fromNpx(adapt(runLine)));
      const done = await run.exit;
      assert.equal(done.code, 0, run.stderr);
      assert.match(worker.stderr, /run fcnn\/adam\/s0 .*starting/);
      const table = readFileSync(join(dir, 'out', 'results.md'), 'utf8');
      assert.match(table, /FCNN/);
      assert.ok(existsSync(join(dir, 'out', 'report.html')));
      worker.proc.kill('SIGTERM');
      assert.equal((await worker.exit).code, 0, worker.stderr);
    } finally {
      worker?.proc.kill('SIGKILL');
      redis.kill('SIGTERM');
      await new Promise((r) => (redis.exitCode !== null ? r(null) : redis.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

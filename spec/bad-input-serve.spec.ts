/**
 * Bad input to `optbench serve` (imported by spec/bad-input.spec.ts, which writes the rows these tests
 * observe into docs/bad-inputs.md): a directory that is no run directory is the error `optbench runs`
 * gives; options are checked before anything is read; a port in use, an address that is not this
 * machine's and a Redis that does not answer are errors naming them; and what is no error: serving to
 * other machines (with a warning), and requests for paths the page does not show. The refusals run
 * through `main` in this process (a process takes seconds to start); one of them also as the command, to
 * check it prints the same, and serving to other machines is the command itself.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ErrorTag } from '../lib/errors.js';
import { behaviourRows, cli, errorRows, inProcess, normaliser, testRef, type Ran } from './support/bad-input.js';
import { freePort } from './support/redis.js';
import { request, startServe, stopServe, writeRuns } from './support/serve.js';

let tmp = '';
const T = (...p: string[]) => join(tmp, ...p);
const norm = normaliser(() => tmp);

/** Checks the CLI ended with one clear line and `exit`, and returns that line's message. */
const refused = (r: Ran, exit: number, says: RegExp): string => {
  assert.equal(r.code, exit, r.stderr);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^optbench: /);
  assert.doesNotMatch(r.stderr, /^\s+at |Error: /m);
  const message = lines[0]!.replace(/^optbench: /, '');
  assert.match(message, says);
  return message;
};

describe('bad input: optbench serve', function () {
  this.timeout(300_000);
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-bad-serve-'));
    writeRuns(T('done'), [{ optimizer: 'adam' }, { optimizer: 'sgd' }]);
    mkdirSync(T('plain'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('a directory without a store, and bad options, are refused before anything is served', async () => {
    const cases: { input: string; argv: string[]; tag: ErrorTag; exit: number; says: RegExp }[] = [
      { input: '`serve` without a run directory', argv: ['serve'], tag: 'InvalidConfig', exit: 2, says: /^Usage: optbench serve <run-dir>\.\.\./ },
      { input: '`serve` of a missing directory', argv: ['serve', T('nowhere')], tag: 'StoreError', exit: 1, says: /^No optbench store at .*nowhere\/optbench\.sqlite: give the output directory/ },
      { input: '`serve` of a directory without a store', argv: ['serve', T('plain')], tag: 'StoreError', exit: 1, says: /^No optbench store at .*plain\/optbench\.sqlite/ },
      { input: '`serve --port` out of range', argv: ['serve', T('done'), '--port', '70000'], tag: 'InvalidConfig', exit: 2, says: /^--port must be a whole number from 0 to 65535 \(0: any free port\), got '70000'\.$/ },
      { input: '`serve --host` empty', argv: ['serve', T('done'), '--host', ''], tag: 'InvalidConfig', exit: 2, says: /^--host '' is empty/ },
      { input: '`serve` of one directory twice', argv: ['serve', T('done'), T('done')], tag: 'InvalidConfig', exit: 2, says: /^.*done is given twice: give each run directory once\.$/ },
      { input: '`serve` of one directory under two names', argv: ['serve', T('done'), `${T('done')}/`], tag: 'InvalidConfig', exit: 2, says: /^.*done and .*done\/ are the same directory: give each run directory once\.$/ },
      { input: '`serve --host` an address of another machine', argv: ['serve', T('done'), '--host', '203.0.113.7', '--port', '0'], tag: 'IoError', exit: 1, says: /^Cannot listen on 203\.0\.113\.7:0: '203\.0\.113\.7' is not an address of this machine\./ },
    ];
    // The command itself, for one of them (it starts while the others run here).
    const child = cli(cases[1]!.argv);
    const ran: Ran[] = [];
    for (const c of cases) ran.push(await inProcess(c.argv));
    // The same error as `optbench runs` gives for the same directory.
    assert.equal(ran[1]!.stderr, (await inProcess(['runs', T('nowhere')])).stderr);
    assert.equal(ran[2]!.stderr, (await inProcess(['runs', T('plain')])).stderr);
    cases.forEach((c, i) => {
      const message = refused(ran[i]!, c.exit, c.says);
      errorRows.push({ input: c.input, argv: c.argv.map(norm), tag: c.tag, exit: c.exit, message: norm(message) });
    });
    // Not in the table: a port that is no number, and an option misspelt.
    refused(await inProcess(['serve', T('done'), '--port', 'http']), 2, /^--port must be a whole number from 0 to 65535 \(0: any free port\), got 'http'\.$/);
    refused(await inProcess(['serve', T('done'), '--portt', '1']), 2, /^Unknown option '--portt'\. Did you mean '--port'\?/);
    assert.deepEqual(await child, ran[1]);
  });

  it('a port in use, and a Redis that does not answer, are errors naming them', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = String((blocker.address() as { port: number }).port);
    const redisPort = String(await freePort());
    try {
      const inUse = await inProcess(['serve', T('done'), '--port', port]);
      const redis = await inProcess(['serve', T('done'), '--port', '0', '--queue', `redis://127.0.0.1:${redisPort}`]);
      const shown = (s: string) => s.split(port).join('<port>').split(redisPort).join('<port>');
      errorRows.push(
        {
          input: '`serve --port` a port in use',
          argv: ['serve', norm(T('done')), '--port', '<port>'],
          tag: 'IoError',
          exit: 1,
          message: shown(refused(inUse, 1, new RegExp(`^Port ${port} on 127\\.0\\.0\\.1 is in use`))),
        },
        {
          input: '`serve --queue` a Redis that is not there',
          argv: ['serve', norm(T('done')), '--port', '0', '--queue', 'redis://127.0.0.1:<port>'],
          tag: 'QueueError',
          exit: 1,
          message: shown(refused(redis, 1, /^Cannot reach Redis at 127\.0\.0\.1:\d+ \(connection refused\)/)),
        },
      );
    } finally {
      blocker.close();
    }
  });

  it('serving to other machines warns on stderr; paths the page does not show are refused, never read', async function () {
    symlinkSync('/etc/passwd', T('done', 'passwd'));
    const s = await startServe([T('done'), '--host', '0.0.0.0']);
    const local = s.url.replace('0.0.0.0', '127.0.0.1');
    const answers = await Promise.all(['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%252e%252e/etc/passwd', '/d/0/passwd'].map((t) => request(local, t)));
    // Listening for other machines, it answers whatever name they know it by (no Host check then).
    const named = await request(local, '/', { headers: { Host: `optbench.example:${s.port}` } });
    const code = await stopServe(s);
    assert.match(s.child.stderr, /^optbench: warning: listening on 0\.0\.0\.0: the page \(every run's spec and metrics\) is reachable from other machines, with no password\. Leave out --host to serve this machine only\.\n/);
    assert.equal(named.status, 200);
    assert.deepEqual(answers.map((a) => a.status), [400, 400, 400, 404]);
    for (const a of answers) assert.doesNotMatch(a.body, /root:/);
    assert.equal(code, 130);
    behaviourRows.push(
      {
        input: '`serve --host 0.0.0.0` (reachable from other machines)',
        argv: ['serve', norm(T('done')), '--host', '0.0.0.0'],
        exit: code ?? -1,
        does: 'serves, and warns on stderr that the page is reachable from other machines with no password (exit 130 when stopped with Ctrl-C)',
        test: testRef(import.meta.filename, this.test),
      },
      {
        input: 'a request for a path the page does not show (`/../../etc/passwd`, `/%2e%2e/...`, `/%252e%252e/...`, a symlink in the directory)',
        argv: ['serve', norm(T('done'))],
        exit: code ?? -1,
        does: 'answers 400 (dot segments, escapes) or 404 (any other path): no URL maps to a file, so none is read',
        test: testRef(import.meta.filename, this.test),
      },
    );
  });
});

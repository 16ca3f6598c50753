/**
 * `optbench help <command>` and `optbench <command> --help`: one command's usage, taken from the whole usage
 * text, and nothing else done (no option checked, nothing written).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMMANDS as ALL_COMMANDS } from '../pipelines/cli/main.js';
import { USAGE, usageOf, wantsHelp } from '../pipelines/cli/usage.js';
import { cli } from './support/cli.js';

const COMMANDS = ALL_COMMANDS.filter((c) => c !== 'help');

describe('optbench help', () => {
  it("each command's usage is its synopsis from the whole usage, with the grid options where the command takes them", () => {
    assert.equal(COMMANDS.length, 13);
    const whole = new Set(USAGE.split('\n'));
    for (const c of COMMANDS) {
      const text = usageOf(c);
      assert.ok(text !== undefined, c);
      const synopses = text.split('\n').filter((l) => l.startsWith('  optbench '));
      assert.deepEqual(synopses.map((l) => l.split(/\s+/)[2]), [c], `${c}: one synopsis, its own`);
      for (const line of text.split('\n')) assert.ok(whole.has(line), `${c}: '${line}' is a line of the whole usage`);
      assert.equal(text.includes('Grid options:'), ['task', 'run', 'sweep', 'tune'].includes(c), `${c}: grid options`);
      assert.ok(text.includes('Exit codes:'), c);
    }
    // sweep's synopsis runs over three lines, worker's over two: the continuation lines come with them.
    assert.ok(usageOf('sweep')!.includes('[--holdout 10000]'));
    assert.ok(usageOf('worker')!.includes('trains the runs of a queue'));
    assert.ok(usageOf('serve')!.includes('a live page of the runs (read-only; port 8600, on 127.0.0.1 unless --host says otherwise)'));
    assert.equal(usageOf('nope'), undefined);
    assert.equal(usageOf('optbench'), undefined);
  });

  it('--help and -h ask for help anywhere before --, and not after it', () => {
    assert.equal(wantsHelp(['--help']), true);
    assert.equal(wantsHelp(['4', '--out', 'x', '-h']), true);
    assert.equal(wantsHelp(['--', '--help']), false);
    assert.equal(wantsHelp(['runs/a', '--json']), false);
    assert.equal(wantsHelp(['--helpful']), false);
  });

  describe('on the command line', () => {
    let tmp = '';
    before(() => {
      tmp = mkdtempSync(join(tmpdir(), 'optbench-help-'));
    });
    after(() => rmSync(tmp, { recursive: true, force: true }));

    it('`run --help` prints run\'s usage, exits 0, and neither checks the other options nor writes --out', async () => {
      const out = join(tmp, 'run');
      const [flag, named] = await Promise.all([
        cli(['run', '--models', 'nope', '--epochs', '-3', '--out', out, '--help']),
        cli(['help', 'run']),
      ]);
      assert.equal(flag.code, 0, flag.stderr);
      assert.equal(flag.stdout, usageOf('run'));
      assert.equal(flag.stderr, '');
      assert.equal(named.code, 0, named.stderr);
      assert.equal(named.stdout, usageOf('run'));
      assert.equal(existsSync(out), false, 'nothing written');
    });

    it('`task 4 -h`, `data check --help` and `serve --help` print their command\'s usage; `help`, `help help` the whole', async () => {
      const [task, data, serve, plain, helpHelp] = await Promise.all([
        cli(['task', '4', '-h']),
        cli(['data', 'check', '--help']),
        cli(['serve', join(tmp, 'nowhere'), '--port', '1', '--help']),
        cli(['help']),
        cli(['help', 'help']),
      ]);
      assert.equal(serve.code, 0, serve.stderr);
      assert.equal(serve.stdout, usageOf('serve'), 'the usage, and no server started');
      assert.equal(task.code, 0, task.stderr);
      assert.equal(task.stdout, usageOf('task'));
      assert.equal(data.code, 0, data.stderr);
      assert.equal(data.stdout, usageOf('data'));
      assert.equal(plain.stdout, USAGE);
      assert.equal(helpHelp.stdout, USAGE);
    });

    it('`help nope` is an unknown command (exit 2, the commands listed); `runs -- -h` is not a request for help', async () => {
      const [nope, dashed] = await Promise.all([cli(['help', 'nope']), cli(['runs', '--', '-h'])]);
      assert.equal(nope.code, 2);
      assert.match(nope.stderr, /Unknown command 'nope'\. Valid commands: task, run,/);
      assert.equal(nope.stdout, '');
      assert.notEqual(dashed.code, 0);
      assert.equal(dashed.stdout, '');
    });
  });
});

/**
 * Ctrl-C: the first SIGINT stops the grid after the current step, keeps every finished epoch (store and
 * runs/*.json), says how to continue and exits 130; a second SIGINT exits at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fixtureGridArgs, start, until } from './support/cli.js';

const gridArgs = (out: string, epochs = 3, report = false): string[] =>
  fixtureGridArgs(out, { optimizers: 'sgd,adam', epochs, subset: 100, testSubset: 50, batchSize: 25 }, report ? [] : ['--no-report']);

interface EpochRow {
  run_id: string;
  epoch: number;
  train_loss: number;
  test_loss: number;
  test_accuracy: number;
}

describe('Ctrl-C (CLI, cpu)', () => {
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-sigint-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('the first SIGINT stops after the current step, keeps every finished epoch, says how to continue, exits 130', async () => {
    const out = join(tmp, 'once');
    const child = start(gridArgs(out));
    await until('the first epoch', () => /epoch 1\/3/.test(child.stderr), child);
    const sentAt = Date.now();
    child.proc.kill('SIGINT');
    const gone = await child.exit;
    assert.equal(gone.code, 130, child.stderr);
    assert.match(child.stderr, /Stopping after the current step \(Ctrl-C again to quit at once\)/);
    assert.ok(child.stderr.includes(`run the same command with --out ${out} to continue`), child.stderr);
    assert.doesNotMatch(child.stderr, /^\s+at /m);
    // Stopping after one step, not after the epoch or the grid: well before 2 more epochs would take.
    assert.doesNotMatch(child.stderr, /epoch 3\/3/);
    assert.ok(gone.at - sentAt < 60_000);

    const db = new Database(join(out, 'optbench.sqlite'), { readonly: true });
    const runs = db.prepare('SELECT id, label, status FROM runs').all() as { id: string; label: string; status: string }[];
    const epochs = db.prepare('SELECT * FROM epochs ORDER BY run_id, epoch').all() as EpochRow[];
    db.close();
    assert.deepEqual(runs.map((r) => [r.label, r.status]), [['fcnn/sgd/s0', 'interrupted']], 'the second run never started');
    const printed = [...child.stderr.matchAll(/epoch (\d)\/3: train loss ([\d.]+)/g)].map((m) => Number(m[1]));
    assert.ok(printed.length >= 1);
    // Every epoch reported as finished is in the store...
    assert.deepEqual(epochs.map((e) => e.epoch), printed);
    // ... and in the run's file, with the same numbers.
    const files = readdirSync(join(out, 'runs'));
    assert.equal(files.length, 1);
    const record = JSON.parse(readFileSync(join(out, 'runs', files[0]!), 'utf8')) as {
      status: string;
      epochs: { epoch: number; train: { loss: number }; test: { loss: number; accuracy: number } }[];
    };
    assert.equal(record.status, 'interrupted');
    assert.deepEqual(
      record.epochs.map((e) => [e.epoch, e.train.loss, e.test.loss, e.test.accuracy]),
      epochs.map((e) => [e.epoch, e.train_loss, e.test_loss, e.test_accuracy]),
    );

    // `optbench runs` shows it interrupted, with where it stopped and what to do, and the grid's run that
    // never started as pending.
    const list = start(['runs', out, '--json']);
    let listedText = '';
    list.proc.stdout?.on('data', (d: Buffer) => (listedText += d.toString()));
    const listed = await list.exit;
    assert.equal(listed.code, 0, list.stderr);
    const rows = (JSON.parse(listedText) as { runs: { label: string; status: string; epochsDone: number; epochs: number; final: unknown }[] }).runs;
    assert.deepEqual(
      rows.map((r) => [r.label, r.status, r.epochsDone, r.epochs, r.final]),
      [
        ['fcnn/sgd/s0', 'interrupted', printed.length, 3, null],
        ['fcnn/adam/s0', 'pending', 0, 3, null],
      ],
    );
  });

  it('a second SIGINT exits at once, without waiting for the step or the report', async () => {
    const out = join(tmp, 'twice');
    // With the report on, the orderly stop has seconds of work left after the first Ctrl-C.
    const child = start(gridArgs(out, 2, true));
    await until('the first run', () => /run 1\/2 fcnn\/sgd\/s0 on cpu/.test(child.stderr), child);
    child.proc.kill('SIGINT');
    await until('the first Ctrl-C to be seen', () => /Stopping after the current step/.test(child.stderr), child);
    const sentAt = Date.now();
    child.proc.kill('SIGINT');
    const gone = await child.exit;
    assert.equal(gone.code, 130);
    // It quit before the orderly stop could say how to continue.
    assert.doesNotMatch(child.stderr, /to continue/);
    assert.ok(gone.at - sentAt < 10_000, `took ${gone.at - sentAt} ms`);
  });
});

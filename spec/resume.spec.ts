/**
 * Resume after a crash: a grid killed with SIGKILL in the middle of an epoch, then run again with the
 * same command, skips its finished runs and continues the interrupted one from its last checkpoint, and
 * every run's per-epoch metrics are those of the same grid trained without interruption.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fixtureGridArgs, sleep, start, until } from './support/cli.js';

const gridArgs = (out: string): string[] =>
  fixtureGridArgs(out, { optimizers: 'sgd,adam', epochs: 2, subset: 100, testSubset: 50, batchSize: 25 }, ['--no-report', '--json']);

interface RunRow {
  id: string;
  label: string;
  status: string;
  finished_at: string | null;
  started_at: string | null;
}
interface EpochRow {
  run_id: string;
  epoch: number;
  train_loss: number;
  train_accuracy: number;
  test_loss: number;
  test_accuracy: number;
  created_at: string;
}

/** What the store holds, read through a read-only connection (the store is the grid's own record). */
const readStore = (out: string) => {
  const db = new Database(join(out, 'optbench.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return {
      runs: db.prepare('SELECT id, label, status, finished_at, started_at FROM runs ORDER BY label').all() as RunRow[],
      epochs: db.prepare('SELECT * FROM epochs ORDER BY run_id, epoch').all() as EpochRow[],
    };
  } finally {
    db.close();
  }
};

describe('resume after SIGKILL (CLI, cpu)', () => {
  let tmp = '';
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-resume-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('skips finished runs, continues the killed one from its checkpoint, and trains exactly as without the crash', async () => {
    const whole = join(tmp, 'whole');
    const killed = join(tmp, 'killed');
    // The uninterrupted reference trains alongside the grid that gets killed.
    const reference = start(gridArgs(whole));
    const first = start(gridArgs(killed));
    // Kill in epoch 2 of run 2 (adam, whose optimizer state must be restored): run 1 is done, run 2 has a
    // checkpoint after epoch 1 and part of epoch 2 more.
    await until('run 2 finishing its first epoch', () => /run 2\/2[^\n]*\n {2}epoch 1\/2/.test(first.stderr), first);
    await until(
      'the checkpoint of run 2',
      () => existsSync(join(killed, 'checkpoints')) && readdirSync(join(killed, 'checkpoints')).some((n) => n.endsWith('.ckpt')),
      first,
    );
    // 4 steps per epoch of a few hundred ms each: wait into the middle of epoch 2.
    await sleep(300);
    assert.doesNotMatch(first.stderr, /run 2\/2[^]*epoch 2\/2/, 'epoch 2 of run 2 ended before the kill');
    first.proc.kill('SIGKILL');
    const gone = await first.exit;
    assert.equal(gone.signal, 'SIGKILL');

    const before = readStore(killed);
    const done = before.runs.filter((r) => r.status === 'done');
    assert.equal(done.length, 1, `one run finished before the kill: ${JSON.stringify(before.runs)}`);
    const doneRun = done[0]!;
    assert.equal(doneRun.label, 'fcnn/sgd/s0');
    const killedRun = before.runs.find((r) => r.label === 'fcnn/adam/s0')!;
    assert.equal(killedRun.status, 'running', 'a killed process leaves its run marked running (it lists as interrupted)');
    assert.deepEqual(
      before.epochs.filter((e) => e.run_id === killedRun.id).map((e) => e.epoch),
      [1],
      'the killed run had finished exactly epoch 1',
    );

    const second = start(gridArgs(killed));
    const [ref, again] = await Promise.all([reference.exit, second.exit]);
    assert.equal(ref.code, 0, reference.stderr);
    assert.equal(again.code, 0, second.stderr);
    assert.match(second.stderr, /run 1\/2 fcnn\/sgd\/s0: finished earlier, skipped/);
    assert.match(second.stderr, /run 2\/2 fcnn\/adam\/s0 on cpu: [^\n]*resuming after epoch 1/);
    assert.doesNotMatch(second.stderr, /run 1\/2 fcnn\/sgd\/s0 on/, 'the finished run was trained again');

    const after = readStore(killed);
    // The finished run was not touched: same row, same epochs, written at the same times.
    assert.deepEqual(
      after.runs.find((r) => r.id === doneRun.id),
      doneRun,
    );
    assert.deepEqual(
      after.epochs.filter((e) => e.run_id === doneRun.id),
      before.epochs.filter((e) => e.run_id === doneRun.id),
    );
    // Epoch 1 of the killed run was kept, not retrained.
    assert.deepEqual(
      after.epochs.find((e) => e.run_id === killedRun.id && e.epoch === 1),
      before.epochs.find((e) => e.run_id === killedRun.id && e.epoch === 1),
    );

    // Every run's per-epoch metrics equal the uninterrupted grid's, bit for bit.
    const metrics = (rows: readonly EpochRow[]) =>
      rows.map((e) => ({ run: e.run_id, epoch: e.epoch, trainLoss: e.train_loss, trainAcc: e.train_accuracy, testLoss: e.test_loss, testAcc: e.test_accuracy }));
    const wholeStore = readStore(whole);
    assert.deepEqual(after.runs.map((r) => r.status), ['done', 'done']);
    assert.deepEqual(wholeStore.runs.map((r) => r.id), after.runs.map((r) => r.id), 'both grids hold the same runs');
    assert.equal(after.epochs.length, 4);
    assert.deepEqual(metrics(after.epochs), metrics(wholeStore.epochs));
    // The --json summaries agree too (final test metrics of every run).
    const finals = (text: string) => (JSON.parse(text) as { runs: { final: unknown }[] }).runs.map((r) => r.final);
    assert.deepEqual(finals(second.stdout), finals(reference.stdout));
    // A finished grid keeps no checkpoints.
    assert.deepEqual(readdirSync(join(killed, 'checkpoints')), []);
  });
});

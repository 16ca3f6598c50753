/**
 * The watcher of one run directory (lib/serve/watch.ts), in virtual time over a real store: it reads at
 * once, again only when the store's files change, every refreshMs while a live process holds a run (a
 * dead owner changes no file), and says so when the directory goes away.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { VirtualAction, VirtualTimeScheduler } from 'rxjs';
import { openStore, storePath } from '../lib/store/index.js';
import { readDir } from '../lib/serve/dir-read.js';
import { watchDir, type DirRead } from '../lib/serve/watch.js';
import { epochEnded, started } from '../lib/testing/events.js';
import { specOf, writeRuns } from './support/serve.js';

describe('serve: the watcher of a run directory', () => {
  let tmp = '';
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'optbench-serve-watch-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads when the store changes, while a run is held every refreshMs, and not otherwise', () => {
    const dir = join(tmp, 'd');
    writeRuns(dir, [{ optimizer: 'adam' }]);
    const scheduler = new VirtualTimeScheduler(VirtualAction, 1000);
    const reads: { at: number; read: DirRead }[] = [];
    const sub = watchDir(dir, { intervalMs: 100, refreshMs: 1000, scheduler }).subscribe((read) => reads.push({ at: scheduler.now(), read }));
    const until = (ms: number) => {
      scheduler.maxFrames = ms;
      scheduler.flush();
    };
    const runsOf = (r: DirRead) => (E.isRight(r) ? r.right.runs.map((x) => `${x.row.spec.optimizer.name}:${x.row.status}:${x.row.epochsDone}`) : [r.left._tag]);
    try {
      until(1000);
      assert.deepEqual(reads.map((r) => r.at), [0], 'one read at once, none while nothing changes');
      assert.deepEqual(runsOf(reads[0]!.read), ['adam:done:3']);
      // Another store (this process stands for the trainer) starts a run and commits an epoch.
      const writer = openStore(storePath(dir));
      assert.ok(E.isRight(writer));
      const s = specOf({ optimizer: 'sgd' });
      writer.right.writeEvent(started(s));
      writer.right.writeEvent(epochEnded(s, 1));
      until(1300);
      assert.equal(reads.length, 2, 'read once after the change');
      assert.equal(reads[1]!.at, 1100, 'at the next look (every intervalMs; the server looks every 300 ms): an epoch reaches the page well within 2 s');
      assert.deepEqual(runsOf(reads[1]!.read), ['adam:done:3', 'sgd:running:1']);
      // Held by a live process: read every refreshMs (1000) though no file changes.
      until(4300);
      assert.deepEqual(reads.slice(2).map((r) => r.at - reads[1]!.at), [1000, 2000, 3000]);
      writer.right.close();
      until(4500);
      const after = reads.length;
      assert.deepEqual(runsOf(reads.at(-1)!.read), ['adam:done:3', 'sgd:interrupted:1']);
      until(8000);
      assert.equal(reads.length, after, 'no run held: no read without a change');
      rmSync(dir, { recursive: true });
      until(8200);
      const gone = reads.at(-1)!.read;
      assert.ok(E.isLeft(gone) && gone.left._tag === 'StoreError' && /No optbench store at/.test(gone.left.message));
    } finally {
      sub.unsubscribe();
    }
  });

  it('given what the caller read, reads only once the files change from it', () => {
    const dir = join(tmp, 'e');
    writeRuns(dir, [{ optimizer: 'adam' }]);
    const initial = readDir(dir);
    assert.ok(E.isRight(initial));
    const scheduler = new VirtualTimeScheduler(VirtualAction, 1000);
    const reads: number[] = [];
    const sub = watchDir(dir, { intervalMs: 100, refreshMs: 1000, scheduler, initial: initial.right }).subscribe(() => reads.push(scheduler.now()));
    try {
      scheduler.flush();
      assert.deepEqual(reads, []);
      writeRuns(dir, [{ optimizer: 'sgd' }]);
      scheduler.maxFrames = 1200;
      scheduler.flush();
      assert.equal(reads.length, 1, 'one read, after the change');
    } finally {
      sub.unsubscribe();
    }
  });
});

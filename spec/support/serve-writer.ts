/**
 * Another process writing a run directory while `optbench serve` reads it (spec/serve-http.spec.ts):
 * `node --import tsx spec/support/serve-writer.ts <dir> <runs as JSON> <ms between events>` writes each
 * synthetic run's events through the store (lib/store), one after the other, and prints
 * `committed <runId> <event> <epoch> <Date.now()>` after each commit, so that the spec can time the page.
 * The store is opened as a grid opens it: a BatchEnded is written only when it is the run's heartbeat
 * (with its step, about once a second).
 */
import * as E from 'fp-ts/lib/Either.js';
import { openStore, storePath } from '../../lib/store/index.js';
import { runEvents, type SyntheticRun } from './serve.js';

const [dir, runsJson, gapMs] = process.argv.slice(2) as [string, string, string];
const runs = JSON.parse(runsJson) as SyntheticRun[];
const store = openStore(storePath(dir));
if (E.isLeft(store)) {
  process.stderr.write(`${store.left.message}\n`);
  process.exit(1);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
for (const r of runs)
  for (const e of runEvents(r)) {
    await sleep(Number(gapMs));
    const w = store.right.writeEvent(e);
    if (E.isLeft(w)) {
      process.stderr.write(`${w.left.message}\n`);
      process.exit(1);
    }
    process.stdout.write(`committed ${e.runId} ${e.type} ${e.type === 'EpochEnded' || e.type === 'BatchEnded' ? e.epoch : 0} ${Date.now()}\n`);
  }
store.right.close();

/**
 * What optbench reads back from disk is decoded by the codecs its types come from (lib/train/record.ts,
 * lib/sweep/record.ts, lib/store/rows.ts, the checkpoint header): a damaged file or row is refused with the
 * file, the path of the bad field and what to do, and everything optbench has committed decodes as it is.
 */
import { strict as assert } from 'node:assert';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, of, toArray } from 'rxjs';
import { runId as specId } from '../lib/config/spec.js';
import type { OptbenchError } from '../lib/errors.js';
import { readRunDir } from '../lib/report/read.js';
import { decodeCheckpoint, encodeCheckpoint } from '../lib/store/checkpoint.js';
import { openStore, persist, storePath } from '../lib/store/index.js';
import { readSweepRecord } from '../lib/sweep/record.js';
import { fullRun, right, spec } from './support/store.js';

const FIX = 'fixtures/rundir-sample';

const leftOf = <A>(r: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(r)) assert.fail('expected the damaged input to be refused');
  return r.left;
};

describe('damaged records: decoded by their codecs, refused naming the file and the field', () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'optbench-damaged-'));
    dirs.push(d);
    return d;
  };
  after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  /** A copy of a finished fixture directory, and the name of one of its run files. */
  const copy = (name = 'single'): { dir: string; run: string } => {
    const dir = tmp();
    cpSync(join(FIX, name), dir, { recursive: true });
    return { dir, run: readdirSync(join(dir, 'runs')).sort()[0]! };
  };
  const edit = (file: string, f: (u: Record<string, unknown>) => unknown) =>
    writeFileSync(file, JSON.stringify(f(JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)));

  it('every run directory and sweep.json optbench has committed decodes, with no warning', () => {
    for (const d of ['fixtures/rundir-sample/single', 'fixtures/rundir-sample/seeds', 'docs/results/task4-mcnn', 'docs/results/task5-vae-partial', 'docs/results/vae1-seeds-partial']) {
      const s = right(readRunDir(d));
      assert.deepEqual(s.warnings, [], d);
      assert.ok(s.grid !== null && s.runs.length > 0, d);
    }
    const sweep = right(readSweepRecord('docs/results/sweep-fcnn-adamax-asha'));
    assert.ok(sweep !== null && sweep.searches[0]!.trials.length === 12);
  });

  it('a run record with a bad field is skipped; the warning names the file, the field and what to do', () => {
    const { dir, run } = copy();
    edit(join(dir, 'runs', run), (r) => ({ ...r, epochs: (r['epochs'] as Record<string, unknown>[]).map((e, i) => (i === 1 ? { ...e, train: { loss: 'low', accuracy: 0.5 } } : e)) }));
    const s = right(readRunDir(dir));
    assert.equal(s.runs.length, 13, 'the other runs are read');
    assert.deepEqual(s.warnings, [
      `Skipped runs/${run}: Invalid run record: epochs[1].train.loss must be a number (null for NaN), got "low". ` +
        'The report leaves this run out: move the file away, or train the run again into this directory to rewrite it.',
    ]);
  });

  it("a run record's diverged loss (null in JSON) reads back as NaN; a record without the writer's later fields reads with their empty values", () => {
    const { dir, run } = copy();
    const file = join(dir, 'runs', run);
    const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(file, (r) => {
      const epochs = r['epochs'] as Record<string, unknown>[];
      return { runId: r['runId'], spec: r['spec'], status: 'failed', epochs: [{ ...epochs[0], train: { loss: null, accuracy: 0.1 } }] };
    });
    const rec = right(readRunDir(dir)).runs.find((r) => r.runId === before['runId'])!;
    assert.ok(Number.isNaN(rec.epochs[0]!.train.loss));
    assert.deepEqual([rec.backend, rec.parameters, rec.final, rec.confusion, rec.vae, rec.error], ['', 0, null, null, null, null]);
  });

  it('a grid.json with a bad spec is skipped naming the spec and its field; the runs are still read', () => {
    const { dir } = copy();
    edit(join(dir, 'grid.json'), (g) => ({ ...g, specs: (g['specs'] as Record<string, unknown>[]).map((s, i) => (i === 2 ? { ...s, optimizer: { name: 'adam', preset: 'keras', overrides: { lr: 'fast' } } } : s)) }));
    const s = right(readRunDir(dir));
    assert.equal(s.grid, null);
    assert.equal(s.runs.length, 14);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /^Skipped grid\.json: Invalid grid record: specs\[2\]\.optimizer\.overrides\.lr must be a finite number, got "fast"\. /);
    assert.match(s.warnings[0]!, /move grid\.json away, or run the grid again into this directory/);
  });

  it('a sweep.json with a bad trial is an IoError naming the file, the field and what to do', () => {
    const dir = tmp();
    cpSync('docs/results/sweep-fcnn-adamax-asha/sweep.json', join(dir, 'sweep.json'));
    edit(join(dir, 'sweep.json'), (r) => {
      const [search] = r['searches'] as Record<string, unknown>[];
      const trials = (search!['trials'] as Record<string, unknown>[]).map((t, i) => (i === 3 ? { ...t, status: 'paused' } : t));
      return { ...r, searches: [{ ...search, trials }] };
    });
    const e = leftOf(readSweepRecord(dir));
    assert.equal(e._tag, 'IoError');
    assert.deepEqual([e._tag === 'IoError' && e.file, e._tag === 'IoError' && e.field], [join(dir, 'sweep.json'), 'searches[0].trials[3].status']);
    assert.equal(
      e.message,
      `${join(dir, 'sweep.json')}: Invalid sweep record: searches[0].trials[3].status must be a trial status, got "paused". Move it away or choose another --out.`,
    );
  });

  it("a sweep.json's unfinite metric (null) reads back as NaN", () => {
    const dir = tmp();
    cpSync('docs/results/sweep-fcnn-adamax-asha/sweep.json', join(dir, 'sweep.json'));
    edit(join(dir, 'sweep.json'), (r) => {
      const [search] = r['searches'] as Record<string, unknown>[];
      const trials = (search!['trials'] as Record<string, unknown>[]).map((t, i) => (i === 0 ? { ...t, metrics: [null] } : t));
      return { ...r, searches: [{ ...search, trials }] };
    });
    const rec = right(readSweepRecord(dir))!;
    assert.ok(Number.isNaN(rec.searches[0]!.trials[0]!.metrics[0]));
  });

  describe('store rows', () => {
    /** A run directory whose store holds one finished run (and its runs/*.json copy, for the fallback). */
    const storeDir = async () => {
      const dir = tmp();
      const s = spec('adam');
      const store = right(openStore(storePath(dir)));
      await lastValueFrom(of(...fullRun(s)).pipe(persist(store), toArray()));
      store.close();
      return { dir, file: storePath(dir), id: specId(s) };
    };
    const damage = (file: string, sql: string, ...params: unknown[]) => {
      const db = new Database(file);
      db.prepare(sql).run(...params);
      db.close();
    };

    it("a run's stored spec with a bad field is a StoreError naming the store, the run, the field and how to rebuild", async () => {
      const { file, id } = await storeDir();
      const good = right(right(openStore(file, { readonly: true })).listRuns());
      assert.equal(good.length, 1);
      damage(file, `UPDATE runs SET spec = json_set(spec, '$.optimizer.name', 'no/such') WHERE id = ?`, id);
      const store = right(openStore(file, { readonly: true }));
      const e = leftOf(store.listRuns());
      const records = leftOf(store.toRunRecords());
      store.close();
      assert.equal(e._tag, 'StoreError');
      assert.equal(e._tag === 'StoreError' && e.field, 'spec.optimizer.name');
      assert.match(e.message, new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: Invalid row of run ${id}: spec\\.optimizer\\.name must be a name of letters`));
      assert.match(e.message, /The store was edited or damaged\. Move it away, or choose another output directory with --out DIR\.$/);
      assert.deepEqual(records, e, 'run records are read from the same decoded rows');
    });

    it('a JSON column that is not JSON, and an epoch with a loss that is not a number, are named too', async () => {
      const { file, id } = await storeDir();
      damage(file, `UPDATE results SET confusion = '[[5, 1], [2' WHERE run_id = ?`, id);
      let store = right(openStore(file, { readonly: true }));
      const confusion = leftOf(store.toRunRecords());
      store.close();
      assert.equal(confusion._tag === 'StoreError' && confusion.field, 'confusion');
      assert.match(confusion.message, /Invalid row of run [0-9a-f]{16}: confusion is not JSON text\./);

      damage(file, `UPDATE results SET confusion = '[[5, 1], [2, 7]]' WHERE run_id = ?`, id);
      damage(file, `UPDATE epochs SET test_loss = 'n/a' WHERE run_id = ? AND epoch = 2`, id);
      store = right(openStore(file, { readonly: true }));
      const epoch = leftOf(store.runEpochs(id));
      store.close();
      assert.equal(epoch._tag === 'StoreError' && epoch.field, 'test_loss');
      assert.match(epoch.message, new RegExp(`Invalid row of an epoch \\(2\\) of run ${id}: test_loss must be number or null, got "n/a"\\.`));
    });

    it('a report of a directory whose store has a damaged row reads runs/*.json instead, and says why', async () => {
      const { dir, file, id } = await storeDir();
      cpSync(join(FIX, 'single', 'runs'), join(dir, 'runs'), { recursive: true });
      damage(file, `UPDATE runs SET spec = '{"dataset":' WHERE id = ?`, id);
      const s = right(readRunDir(dir));
      assert.equal(s.runs.length, 14, 'the runs of runs/*.json');
      assert.equal(s.warnings.length, 1);
      assert.match(s.warnings[0]!, /^Read runs\/\*\.json instead of the store: .*Invalid row of run [0-9a-f]{16}: spec is not JSON text\./);
    });
  });

  it("a checkpoint whose header does not decode is unusable, naming the header's bad field", () => {
    const runId = '0123456789abcdef';
    const good = right(encodeCheckpoint({ runId, epoch: 1, weights: { '0': { shape: [2], values: new Float32Array([1, 2]) } }, optimizer: { iteration: 3, weights: {} }, rng: null }));
    assert.equal(right(decodeCheckpoint('x.ckpt', runId, good)).epoch, 1);
    // The same layout (magic, format, header length, header, payload, hash) around a header with a bad shape.
    const header = Buffer.from(JSON.stringify({ runId, epoch: 1, iteration: 3, rng: null, tensors: [{ group: 'weights', name: '0', shape: [2.5] }] }));
    const prefix = Buffer.alloc(16);
    good.copy(prefix, 0, 0, 12);
    prefix.writeUInt32LE(header.length, 12);
    const bad = Buffer.concat([prefix, header, Buffer.alloc(8 + 32)]);
    const e = leftOf(decodeCheckpoint('x.ckpt', runId, bad));
    assert.equal(e._tag, 'StoreError');
    assert.equal(
      e.message,
      'Checkpoint x.ckpt is unusable (damaged header: Invalid checkpoint header: tensors[0].shape[0] must be a whole number >= 0, got 2.5): ' +
        `run ${runId} cannot resume from it and restarts from its first epoch.`,
    );
  });
});

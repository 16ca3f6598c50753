import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { csvParseRows } from 'd3-dsv';
import { lastValueFrom, of, toArray } from 'rxjs';
import { runId as specId } from '../lib/config/spec.js';
import type { RunFailed } from '../lib/train/events.js';
import { EXPORT_CSV_COLUMNS, persist } from '../lib/store/index.js';
import { right, left, spec, epoch, ended, fullRun, useStoreDir } from './support/store.js';

describe('store: export and artifacts', () => {
  const { dir, open } = useStoreDir();

  it('exports one CSV row per run and epoch, and full JSON records', async () => {
    const store = open();
    const a = spec('adam', { optimizer: { name: 'adam', preset: 'keras', overrides: { lr: 0.003, beta1: 0.8 } } });
    const b = spec('sgd', { epochs: 2 });
    const c = spec('nadam');
    const failC: RunFailed = {
      type: 'RunFailed',
      runId: specId(c),
      spec: c,
      error: { _tag: 'BackendUnavailable', backend: 'tensorflow', message: 'Backend "tensorflow", not installed, "x"' },
      epochsDone: 0,
    };
    await lastValueFrom(of(...fullRun(a), ...fullRun(b), failC).pipe(persist(store), toArray()));

    const csv = right(store.exportRuns('csv'));
    assert.ok(csv.includes(',"Backend ""tensorflow"", not installed, ""x"""\n'), 'RFC 4180: quoted, inner quotes doubled');
    const rows = csvParseRows(csv);
    assert.deepEqual(rows[0], [...EXPORT_CSV_COLUMNS]);
    const body = rows.slice(1);
    assert.equal(body.length, 3 + 2 + 1);
    const col = (r: string[], name: (typeof EXPORT_CSV_COLUMNS)[number]) => r[EXPORT_CSV_COLUMNS.indexOf(name)]!;
    for (const s of [a, b]) {
      const mine = body.filter((r) => col(r, 'run_id') === specId(s));
      assert.equal(mine.length, s.epochs);
      mine.forEach((r, i) => {
        const e = epoch(s, i + 1);
        assert.equal(Number(col(r, 'epoch')), i + 1);
        assert.equal(Number(col(r, 'train_loss')), e.train.loss);
        assert.equal(Number(col(r, 'test_accuracy')), e.test!.accuracy);
        assert.equal(Number(col(r, 'eval_ms')), e.evalMs);
        assert.equal(col(r, 'status'), 'done');
        assert.equal(col(r, 'optimizer'), s.optimizer.name);
        assert.deepEqual(JSON.parse(col(r, 'overrides')), s.optimizer.overrides);
        assert.equal(Number(col(r, 'final_test_loss')), ended(s).final!.testLoss);
      });
    }
    const [failed] = body.filter((r) => col(r, 'run_id') === specId(c));
    assert.equal(col(failed!, 'status'), 'failed');
    assert.equal(col(failed!, 'epoch'), '');
    assert.equal(col(failed!, 'error'), failC.error.message, 'quotes and commas survive');

    const json = JSON.parse(right(store.exportRuns('json'))) as {
      runId: string;
      status: string;
      storeStatus: string;
      epochs: { epoch: number; train: { loss: number } }[];
      final: unknown;
      versions: { node: string };
    }[];
    assert.equal(json.length, 3);
    const ja = json.find((r) => r.runId === specId(a))!;
    assert.deepEqual(
      ja.epochs.map((e) => e.train.loss),
      [1, 2, 3].map((k) => epoch(a, k).train.loss),
    );
    assert.deepEqual(ja.final, ended(a).final);
    assert.equal(ja.versions.node, process.versions.node);
    assert.equal(json.find((r) => r.runId === specId(c))!.storeStatus, 'failed');
    const only = JSON.parse(right(store.exportRuns('json', [specId(b)]))) as unknown[];
    assert.equal(only.length, 1);
    store.close();
  });

  it('records artifacts with their size and SHA-256, replacing a rewritten file', () => {
    const store = open();
    const file = join(dir(), 'curves.svg');
    writeFileSync(file, '<svg>one</svg>');
    const first = right(store.recordArtifact({ runId: null, kind: 'figure', path: file }));
    assert.equal(first.bytes, 14);
    assert.equal(first.sha256, createHash('sha256').update('<svg>one</svg>').digest('hex'));
    writeFileSync(file, '<svg>second</svg>');
    right(store.recordArtifact({ runId: null, kind: 'figure', path: file }));
    const all = right(store.artifacts());
    assert.equal(all.length, 1);
    assert.equal(all[0]!.bytes, 17);
    const missing = left(store.recordArtifact({ runId: null, kind: 'figure', path: join(dir(), 'none.svg') }));
    assert.equal(missing._tag, 'IoError');
    store.close();
  });
});

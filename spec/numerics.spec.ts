/**
 * The numbers training computes are pinned: fixtures/numerics/fit-cpu.json was recorded by
 * scripts/record-fit-numerics.ts from the training loop before the pipeline's operators were rebuilt
 * (commit "Pin what training computes ..."), and every run here must reproduce it bit for bit: each step's
 * running loss, each epoch's train and test metrics, the final evaluation, the confusion matrix and the
 * VAE's decoded grids.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import { useBackend } from '../lib/backend/index.js';
import { loadDataset } from '../lib/data/load.js';
import type { Dataset } from '../lib/data/types.js';
import { runFit } from '../lib/train/fit.js';
import { NUMERICS_SPECS, numericsRecord, type NumericsRun } from './support/numerics.js';

const recorded = JSON.parse(readFileSync('fixtures/numerics/fit-cpu.json', 'utf8')) as { backend: string; runs: NumericsRun[] };
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('numerics: training reproduces the recorded numbers bit for bit (cpu)', function () {
  let data: Dataset;
  before(async () => {
    assert.ok(E.isRight(await useBackend('cpu')));
    const loaded = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
    assert.ok(E.isRight(loaded));
    data = loaded.right;
  });

  it('the fixture covers every pinned spec', () => {
    assert.deepEqual(
      recorded.runs.map((r) => r.spec),
      NUMERICS_SPECS,
    );
  });

  for (const [i, spec] of NUMERICS_SPECS.entries())
    it(`${spec.model}/${spec.optimizer.name}/s${spec.seed}`, async () => {
      const events = await lastValueFrom(runFit(spec, data, { progressEveryMs: 0 }).pipe(toArray()));
      const got = numericsRecord(spec, events, sha256);
      const want = recorded.runs[i]!;
      assert.equal(got.failed, null);
      assert.deepEqual(got.steps, want.steps, 'running loss after every step');
      assert.deepEqual(got.epochs, want.epochs, 'per-epoch train and test metrics');
      assert.deepEqual(got.final, want.final);
      assert.deepEqual(got.confusion, want.confusion);
      assert.equal(got.vae, want.vae, 'decoded VAE grids');
    });
});

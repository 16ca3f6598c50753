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
import { lastValueFrom, of, toArray } from 'rxjs';
import type { Dataset } from '../lib/data/types.js';
import { fixtureOnCpu } from './support/fixture.js';
import { evaluate } from '../lib/train/evaluate.js';
import type { RunEvent } from '../lib/train/events.js';
import { trainGrid } from '../lib/train/train-grid.js';
import { NUMERICS_SPECS, numericsRecord, type NumericsRun } from './support/numerics.js';

const recorded = JSON.parse(readFileSync('fixtures/numerics/fit-cpu.json', 'utf8')) as { backend: string; runs: NumericsRun[] };
const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('numerics: training reproduces the recorded numbers bit for bit (cpu)', function () {
  let data: Dataset;
  before(async () => {
    data = await fixtureOnCpu();
  });

  it('the fixture covers every pinned spec', () => {
    assert.deepEqual(
      recorded.runs.map((r) => r.spec),
      NUMERICS_SPECS,
    );
  });

  const check = (events: readonly RunEvent[], i: number): void => {
      const spec = NUMERICS_SPECS[i]!;
      const got = numericsRecord(spec, events, sha256);
      const want = recorded.runs[i]!;
      assert.equal(got.failed, null);
      assert.deepEqual(got.steps, want.steps, 'running loss after every step');
      assert.deepEqual(got.epochs, want.epochs, 'per-epoch train and test metrics');
      assert.deepEqual(got.final, want.final);
      assert.deepEqual(got.confusion, want.confusion);
      assert.equal(got.vae, want.vae, 'decoded VAE grids');
  };

  // The pipeline as its users write it: the trainer lends each epoch's model, `evaluate` evaluates it.
  for (const [i, spec] of NUMERICS_SPECS.entries())
    it(`${spec.model}/${spec.optimizer.name}/s${spec.seed}: trainGrid then evaluate()`, async () => {
      const events = await lastValueFrom(of(data).pipe(trainGrid([spec], { progressEveryMs: 0 }), evaluate(), toArray()));
      check(events.filter((e): e is RunEvent => e.type !== 'GridStarted'), i);
    });

  // The evaluation options travelling with the job (as they do to a remote trainer): the same numbers.
  it('fcnn/sgd/s2 evaluated by its trainer (trainGrid { evaluate }) gives the same numbers', async () => {
    const i = 3;
    const events = await lastValueFrom(of(data).pipe(trainGrid([NUMERICS_SPECS[i]!], { progressEveryMs: 0, evaluate: {} }), toArray()));
    check(events.filter((e): e is RunEvent => e.type !== 'GridStarted'), i);
  });
});

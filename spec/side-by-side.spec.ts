/**
 * One run, one truth: two runs trained side by side in one process (trainGrid with concurrency 2) compute
 * exactly what each computes alone, whatever the mix of precisions, models and optimizers. Before the
 * run's precision was scoped to its own computations, a bf16 run beside a shorter fp32 one computed its
 * last epochs in fp32 (the short run's end reset the addon's mode for the process) while still recording
 * bf16, and an fp32 run beside a bf16 one computed its first steps in bf16.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, of, toArray } from 'rxjs';
import { useBackend } from '../lib/backend/index.js';
import type { RunSpec } from '../lib/config/spec.js';
import { runId } from '../lib/config/spec.js';
import type { Dataset } from '../lib/data/types.js';
import type { GridEvent } from '../lib/train/events.js';
import { evaluate } from '../lib/train/evaluate.js';
import { trainGrid } from '../lib/train/train-grid.js';
import { loadFixture } from './support/fixture.js';
import { requireNative } from './support/native.js';

const spec = (over: Partial<RunSpec>): RunSpec => ({
  dataset: 'fashion-mini',
  model: 'fcnn',
  optimizer: { name: 'adamax', preset: 'tfkeras2', overrides: {} },
  seed: 0,
  epochs: 1,
  batchSize: 50,
  backend: 'native',
  subset: 200,
  testSubset: 100,
  ...over,
});

/** Per run: every step's running loss, and every epoch's training and test metrics, as the events say. */
const trace = (events: readonly GridEvent[]): Map<string, string[]> => {
  const out = new Map<string, string[]>();
  const add = (id: string, line: string) => out.set(id, [...(out.get(id) ?? []), line]);
  for (const e of events) {
    if (e.type === 'BatchEnded') add(e.runId, `step ${e.epoch}.${e.step} ${e.loss}`);
    if (e.type === 'EpochEnded') add(e.runId, `epoch ${e.epoch} ${e.train.loss} ${e.train.accuracy} ${e.test?.loss} ${e.test?.accuracy}`);
    if (e.type === 'RunEnded') add(e.runId, `final ${JSON.stringify(e.final)} ${JSON.stringify(e.confusion)}`);
    if (e.type === 'RunFailed') add(e.runId, `failed ${e.error.message}`);
  }
  return out;
};

const grid = (data: Dataset, specs: RunSpec[], concurrency: number) =>
  lastValueFrom(of(data).pipe(trainGrid(specs, { concurrency, progressEveryMs: 0 }), evaluate(), toArray()));

describe('runs side by side in one process', function () {
  let data: Dataset;
  let previous: string;
  before(async () => {
    previous = await requireNative();
    assert.ok(E.isRight(await useBackend('native')));
    data = await loadFixture();
  });
  after(async () => {
    await tf.setBackend(previous);
  });

  const mixes: [string, RunSpec, RunSpec][] = [
    ['a 3-epoch bf16 run beside a 1-epoch fp32 run', spec({ epochs: 3, precision: 'bf16' }), spec({ optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: {} } })],
    ['a 1-epoch bf16 run beside a 3-epoch fp32 run', spec({ precision: 'bf16', seed: 1 }), spec({ epochs: 3, seed: 1 })],
    ['MCNN (dropout) beside SCNN, two optimizers', spec({ model: 'mcnn', epochs: 2, subset: 100 }), spec({ model: 'scnn', optimizer: { name: 'nadam', preset: 'tfkeras2', overrides: {} } })],
    ['VAE1 in bf16 beside FCNN in fp32', spec({ model: 'vae1', precision: 'bf16', epochs: 2 }), spec({ epochs: 2, optimizer: { name: 'rmsprop', preset: 'tfkeras2', overrides: {} } })],
  ];
  for (const [name, a, b] of mixes)
    it(`${name}: each computes what it computes alone`, async () => {
      const alone = new Map([...trace(await grid(data, [a], 1)), ...trace(await grid(data, [b], 1))]);
      const together = await grid(data, [a, b], 2);
      // The two runs really were in flight at once: a step of one falls between two steps of the other.
      const order = together.filter((e) => e.type === 'BatchEnded').map((e) => (e.runId === runId(a) ? 'a' : 'b')).join('');
      assert.match(order, /ab.*a|ba.*b/, `the runs' steps interleave: ${order}`);
      const side = trace(together);
      for (const s of [a, b]) assert.deepEqual(side.get(runId(s)), alone.get(runId(s)), `${s.model}/${s.precision ?? 'fp32'}`);
      assert.ok(alone.get(runId(a))!.some((l) => l.startsWith('final')), 'the runs ended');
    });
});

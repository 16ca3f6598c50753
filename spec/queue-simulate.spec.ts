/**
 * The scale-out simulation: list scheduling in the queue's order, checked against exhaustive search on
 * small grids (longest-first is within 4/3 of the best schedule) and against the two exact cases.
 */
import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import type { RunSpec } from '../lib/config/spec.js';
import { queueOrder, simulate } from '../lib/queue/simulate.js';

const spec = (model: string, epochs: number, i: number): RunSpec => ({
  dataset: 'fashion-mnist', model, optimizer: { name: 'adam', preset: 'tfkeras2', overrides: {} }, seed: i, epochs, batchSize: 200, backend: 'native',
});

/** The best makespan over every assignment of runs to machines. */
const optimum = (d: readonly number[], k: number): number => {
  let best = Infinity;
  const load = new Array<number>(k).fill(0);
  const go = (i: number): void => {
    if (i === d.length) {
      best = Math.min(best, Math.max(...load));
      return;
    }
    for (let m = 0; m < k; m++) {
      load[m]! += d[i]!;
      if (Math.max(...load) < best) go(i + 1);
      load[m]! -= d[i]!;
      if (load[m] === 0) break; // empty machines are interchangeable
    }
  };
  go(0);
  return best;
};

describe('the scale-out simulation', () => {
  it('hands out runs longest first, as the queue orders them', () => {
    const specs = [spec('fcnn', 50, 0), spec('vae2', 50, 1), spec('mcnn', 50, 2), spec('vae2', 50, 3)];
    assert.deepEqual(queueOrder(specs).map((s) => `${s.model}${s.seed}`), ['vae21', 'vae23', 'mcnn2', 'fcnn0']);
  });

  it('is the sum on one machine and the longest run on as many machines as runs', () => {
    const specs = ['fcnn', 'scnn', 'bcnn', 'vae2'].map((m, i) => spec(m, 10, i));
    const secs = (s: RunSpec) => ({ fcnn: 1, scnn: 2, bcnn: 3, vae2: 10 })[s.model as 'fcnn']!;
    assert.equal(simulate(specs, 1, secs).makespan, 16);
    assert.equal(simulate(specs, 4, secs).makespan, 10);
    assert.equal(simulate(specs, 9, secs).makespan, 10);
  });

  it('stays within 4/3 of the best schedule and never beats the bound', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 4 }), (d, k) => {
        const specs = d.map((e, i) => spec('fcnn', e, i));
        const sim = simulate(specs, k, (s) => s.epochs);
        const opt = optimum(d, k);
        assert.ok(sim.makespan >= opt && sim.makespan >= sim.bound - 1e-9);
        assert.ok(sim.makespan <= (4 / 3) * opt + 1e-9, `${sim.makespan} vs optimum ${opt}`);
        // Each machine runs one run at a time.
        for (let m = 0; m < k; m++) {
          const mine = sim.runs.filter((r) => r.machine === m).sort((a, b) => a.start - b.start);
          for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start >= mine[i - 1]!.start + mine[i - 1]!.seconds - 1e-9);
        }
      }),
      { numRuns: 200 },
    );
  });
});

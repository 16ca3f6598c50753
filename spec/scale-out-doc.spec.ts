/**
 * docs/scale-out.md is what its scripts print: the simulation's table and figure are regenerated and
 * compared, and the measurement script is run end to end on a tiny grid (its real figures need a quiet
 * machine and the quick grid).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { STEP_SECONDS } from '../lib/queue/cost.js';
import { makespanFigure, simulateStudy, simulationTable } from '../bench/scale-out-sim.js';
import { measure } from '../bench/scale-out-measure.js';
import { FIXTURE, ROOT } from './support/cli.js';

const doc = readFileSync(join(ROOT, 'docs', 'scale-out.md'), 'utf8');

describe('docs/scale-out.md', function () {
  this.timeout(600_000);

  it("quotes the simulation's table and figure as the script makes them", () => {
    const { rows } = simulateStudy(STEP_SECONDS);
    assert.ok(doc.includes(simulationTable(rows)), 'the table in docs/scale-out.md is not what bench/scale-out-sim.ts prints');
    assert.equal(readFileSync(join(ROOT, 'docs', 'scale-out', 'makespan.svg'), 'utf8'), makespanFigure(rows));
    // The doc's claims about it.
    const at = (seeds: number, k: number) => rows.find((r) => r.seeds === seeds && r.machines === k)!;
    assert.ok(rows.every((r) => r.ratio < 1.01));
    assert.equal(at(1, 16).makespanHours.toFixed(1), '3.1');
    assert.equal(at(5, 42).makespanHours.toFixed(1), '4.3');
    assert.ok(doc.includes('node --import tsx bench/scale-out-sim.ts --svg docs/scale-out/makespan.svg'));
  });

  it('its measurement script runs: local, 1 worker x 2 threads, 2 workers x 1 thread', async () => {
    assert.ok(doc.includes('node --import tsx bench/scale-out-measure.ts'));
    const grid = ['run', '--models', 'fcnn', '--optimizers', 'adam', '--epochs', '1', '--subset', '100', '--test-subset', '50',
      '--batch-size', '50', '--backend', 'native', '--data-dir', FIXTURE, '--dataset', 'fashion-mini'];
    const { figures } = await measure(grid);
    assert.deepEqual(figures.map((f) => f.config), ['local, 2 threads', 'queue, 1 worker x 2 threads', 'queue, 2 workers x 1 thread']);
    for (const f of figures) {
      assert.equal(f.epochs, 1, f.config);
      assert.ok(f.wallS > f.computeS && f.computeS > 0, `${f.config}: wall ${f.wallS} s, compute ${f.computeS} s`);
    }
  });
});

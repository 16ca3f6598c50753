import { strict as assert } from 'node:assert';
import { D3Node } from 'd3-node';
import { stripChart } from '../lib/report/strip.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type El = any;
const parse = (svg: string): El => new D3Node({ container: `<div id="root">${svg}</div>` }).document.body;
const all = (root: El, sel: string): El[] => Array.from(root.querySelectorAll(sel));
const translateX = (el: El): number => Number(/translate\(([\d.]+)/.exec(el.getAttribute('transform'))![1]);

describe('report: strip chart', () => {
  const chart = () =>
    stripChart({
      title: 'VAE1: test loss after epoch 2',
      xLabel: 'test loss',
      rows: [
        { label: 'adam (4)', group: 'optbench', values: [29.5, 31, 48.7, 55] },
        { label: 'adam (3)', group: 'keras', values: [30, 36.3, 35.4] },
        { label: 'rmsprop (0)', group: 'keras', values: [] },
      ],
      threshold: { value: 40, label: 'stalled above 40' },
    });

  it('draws every value as a dot in its row, at its place on the x axis', () => {
    const root = parse(chart());
    const strips = all(root, 'g.strip');
    assert.deepEqual(strips.map((s) => `${s.getAttribute('data-label')}/${s.getAttribute('data-group')}`), ['adam (4)/optbench', 'adam (3)/keras', 'rmsprop (0)/keras']);
    assert.deepEqual(all(strips[0], 'circle').map((c) => Number(c.getAttribute('data-value'))), [29.5, 31, 48.7, 55]);
    assert.equal(all(strips[2], 'circle').length, 0);
    // The x axis's ticks give the scale: a dot's cx sits where its value falls between two ticks (d3 draws
    // ticks half a pixel to the right, for crisp lines).
    const ticks = all(root, '.x-axis .tick').map((t) => ({ v: Number(t.textContent), x: translateX(t) }));
    const [t0, t1] = [ticks[0]!, ticks.at(-1)!];
    const xOf = (v: number) => t0.x + ((v - t0.v) / (t1.v - t0.v)) * (t1.x - t0.x);
    for (const c of all(root, 'circle[data-value]')) assert.ok(Math.abs(Number(c.getAttribute('cx')) - xOf(Number(c.getAttribute('data-value')))) <= 0.5 + 1e-6);
    // Rows do not overlap: every dot of row 1 lies below every dot of row 0.
    const ys = (i: number) => all(strips[i], 'circle').map((c) => Number(c.getAttribute('cy')));
    assert.ok(Math.min(...ys(1)) > Math.max(...ys(0)));
  });

  it('draws the threshold where its value falls, and one legend entry per group', () => {
    const root = parse(chart());
    const rule = root.querySelector('g.threshold line');
    const ticks = all(root, '.x-axis .tick').map((t) => ({ v: Number(t.textContent), x: translateX(t) }));
    const at40 = ticks.find((t) => t.v === 40);
    assert.ok(at40, 'the axis has a tick at 40');
    assert.ok(Math.abs(Number(rule.getAttribute('x1')) - at40.x) <= 0.5 + 1e-9, `${rule.getAttribute('x1')} vs tick ${at40.x}`);
    assert.deepEqual(all(root, 'g.legend-entry').map((e) => e.getAttribute('data-label')), ['optbench', 'keras']);
    // Row labels are the y axis's ticks, inside the picture (the wide left margin).
    assert.deepEqual(all(root, '.y-axis .tick text').map((t) => t.textContent), ['adam (4)', 'adam (3)', 'rmsprop (0)']);
    assert.equal(chart(), chart(), 'the same figure every time (seeded jitter)');
  });
});

/**
 * The pipeline as its users write it, literally: loadFashion$(cfg).pipe(trainGrid(specs), evaluate(),
 * renderD3(dir)) writes the report the CLI writes for the same grid. Both train the same runs on the
 * fixture data with the cpu backend (deterministic), so their tables are equal to the last digit; the
 * figures are the same set (their time axes differ: wall-clock).
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import { evaluate, loadFashion$, planGrid, renderD3, trainGrid, useBackend, type Artifact } from '../lib/index.js';
import { FIXTURE, cli, fixtureGridArgs } from './support/cli.js';

describe('the literal chain: loadFashion$(cfg).pipe(trainGrid(specs), evaluate(), renderD3(dir))', function () {
  let tmp = '';
  before(() => (tmp = mkdtempSync(join(tmpdir(), 'optbench-chain-'))));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('writes the same report (tables, figure set, report.html) as `optbench run` for the same grid', async () => {
    const viaCli = join(tmp, 'cli');
    const viaChain = join(tmp, 'chain');
    const grid = { optimizers: 'sgd,adam', epochs: 2, subset: 100, testSubset: 50, batchSize: 25 };
    const ran = await cli(fixtureGridArgs(viaCli, grid));
    assert.equal(ran.code, 0, ran.stderr);

    assert.ok(E.isRight(await useBackend('cpu')));
    const specs = planGrid({
      dataset: 'fashion-mini',
      models: ['fcnn'],
      optimizers: [{ name: 'sgd' }, { name: 'adam' }],
      preset: 'tfkeras2',
      seeds: 1,
      epochs: 2,
      batchSize: 25,
      backend: 'cpu',
      subset: 100,
      testSubset: 50,
    });
    if (E.isLeft(specs)) assert.fail(specs.left.message);
    const cfg = { dir: FIXTURE, dataset: 'fashion-mini' };

    const written: Artifact[] = await lastValueFrom(
      loadFashion$(cfg).pipe(trainGrid(specs.right), evaluate(), renderD3(viaChain, { title: 'Grid: fcnn', task: 'run' }), toArray()),
    );

    const files = (dir: string) => readdirSync(join(dir, 'report')).sort();
    assert.deepEqual(files(viaChain), files(viaCli), 'the same figures and tables');
    assert.ok(files(viaChain).some((f) => f === 'fcnn-confusion.svg'));
    assert.deepEqual(
      written.map((a) => a.path.slice(viaChain.length + 1)).sort(),
      [...files(viaChain).map((f) => `report/${f}`), 'report.html'].sort(),
      'every file written was emitted as an Artifact',
    );
    for (const table of ['table.md', 'table.csv', 'table.tex'])
      assert.equal(readFileSync(join(viaChain, 'report', table), 'utf8'), readFileSync(join(viaCli, 'report', table), 'utf8'), table);
    const section = (dir: string) => {
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      return html.slice(html.indexOf('<section id="summary">'), html.indexOf('<div class="figures">'));
    };
    assert.equal(section(viaChain), section(viaCli), "the page's summary, overview and model table");
  });
});

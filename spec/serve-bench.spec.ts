/**
 * bench/serve.ts, scaled down so that it runs in seconds: it must build its directory, start the server,
 * follow it while runs train and print every figure bench/README.md names. Only that the figures exist
 * and add up is checked here; how fast the server is, is the bench's to say on a quiet machine.
 */
import { strict as assert } from 'node:assert';
import { startNode } from './support/cli.js';

interface Figures {
  readonly runs: number;
  readonly firstPageMs: number;
  readonly pageBytes: number;
  readonly oneRunReportMs: number;
  readonly chromiumLoadMs: number | null;
  readonly runsAtEnd: number;
  readonly changesPushed: number;
  readonly epochToPageMs: { readonly median: number; readonly seen: number; readonly missed: number };
  readonly rssMb: readonly { readonly epochs: number; readonly rssMb: number }[];
}

describe('bench/serve.ts', function () {
  this.timeout(180_000);

  it('builds a directory, serves it, follows its runs as they train and prints its figures', async () => {
    const bench = startNode('bench/serve.ts', ['--runs', '12', '--epochs', '2', '--live', '2', '--live-epochs', '10', '--every-ms', '400', '--no-browser', '--json']);
    const { code } = await bench.exit;
    assert.equal(code, 0, bench.stderr);
    const f = JSON.parse(bench.stdout) as Figures;
    assert.equal(f.runs, 12);
    assert.ok(f.firstPageMs > 0 && f.oneRunReportMs > 0 && f.pageBytes > 10_000);
    assert.equal(f.chromiumLoadMs, null, '--no-browser');
    // 10 epochs of 2-epoch runs, 2 at a time: 2 runs started, then one more for each that ended.
    assert.equal(f.runsAtEnd, 12 + 6);
    assert.ok(f.changesPushed > 0);
    // Every committed epoch is either timed to the page or said to have come with a later one.
    assert.equal(f.epochToPageMs.seen + f.epochToPageMs.missed, 10);
    assert.ok(f.epochToPageMs.seen >= 1, JSON.stringify(f.epochToPageMs));
    assert.ok(f.epochToPageMs.median > 0);
    assert.deepEqual(f.rssMb.map((s) => s.epochs), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const s of f.rssMb) assert.ok(s.rssMb > 10 && s.rssMb < 4096, String(s.rssMb));
    assert.match(bench.stderr, /^CPU: .*; load average /m);
  });
});

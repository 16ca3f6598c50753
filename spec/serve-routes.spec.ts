/**
 * The live page's pure parts: which request targets are routes (and which are refused, and how), the
 * choice of runs a query carries, a run's `epoch k/N`, and what a directory's view sends when it changes.
 */
import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { emptyView, viewChange, type DirView } from '../lib/serve/dir-view.js';
import { route } from '../lib/serve/routes.js';
import { progressText } from '../lib/serve/run-view.js';
import { decodeSelection, isSelected, selectionKey } from '../lib/serve/selection.js';

const A = '0123456789abcdef';
const B = 'fedcba9876543210';

const kind = (method: string, target: string) => {
  const r = route(method, target, 2);
  return E.isRight(r) ? r.right.kind : r.left.status;
};

describe('serve: routes, selections, progress, changes', () => {
  it('routes the page, its assets, its events and each directory\'s fragments; nothing else', () => {
    assert.equal(kind('GET', '/'), 'page');
    assert.equal(kind('HEAD', '/'), 'page');
    assert.equal(kind('GET', '/app.js'), 'asset');
    assert.equal(kind('GET', '/style.css'), 'asset');
    assert.equal(kind('GET', '/events'), 'events');
    assert.equal(kind('GET', '/d/1/runs'), 'runs');
    assert.equal(kind('GET', `/d/0/report?only=${A},${B}`), 'report');
    assert.equal(kind('GET', '/d/2/runs'), 404, 'two directories: 0 and 1');
    assert.equal(kind('GET', '/d/01/runs'), 404);
    assert.equal(kind('GET', '/d/0/runs/'), 404);
    assert.equal(kind('GET', '/index.html'), 404);
    for (const t of ['/../x', '/d/0/..', '/./app.js', '//app.js', '/%2e%2e/x', '/a%2fb', '/\\x', '/d/0/runs?x=1', '/app.js?v=2', 'app.js', '*', 'http://x/'])
      assert.equal(kind('GET', t), 400, t);
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'get']) assert.equal(kind(m, '/'), 405, m);
  });

  it('decodes a choice of runs: only, except, or every run; refuses anything else', () => {
    const sel = (q: string) => decodeSelection(new URLSearchParams(q));
    const only = sel(`only=${A},${B}`);
    assert.ok(E.isRight(only) && only.right.kind === 'only' && isSelected(only.right, A) && !isSelected(only.right, '1111111111111111'));
    const except = sel(`except=${A}`);
    assert.ok(E.isRight(except) && !isSelected(except.right, A) && isSelected(except.right, B));
    const all = sel('');
    assert.ok(E.isRight(all) && all.right.kind === 'all');
    const none = sel('only=');
    assert.ok(E.isRight(none) && !isSelected(none.right, A));
    const flipped = sel(`only=${B},${A}`);
    assert.ok(E.isRight(only) && E.isRight(flipped) && selectionKey(only.right) === selectionKey(flipped.right), 'the same choice in any order');
    for (const q of [`only=${A}&except=${B}`, `only=${A}&only=${B}`, 'only=abc', `only=${A.toUpperCase()}`, `only=${A},`, 'runs=all', `only=${Array(5001).fill(A).join(',')}`]) {
      const r = sel(q);
      assert.ok(E.isLeft(r) && r.left._tag === 'InvalidConfig', q);
    }
  });

  it('says `epoch k/N`, with the step of the epoch under way when a queue worker reported it', () => {
    assert.equal(progressText({ epochsDone: 2, epochs: 50, step: null, state: 'running' }), 'epoch 2/50');
    assert.equal(progressText({ epochsDone: 2, epochs: 50, step: { epoch: 3, step: 120, steps: 300 }, state: 'running' }), 'epoch 2/50, step 120/300 of epoch 3');
    // A step report older than the store's epochs, or of a run that is no longer running, is not shown.
    assert.equal(progressText({ epochsDone: 3, epochs: 50, step: { epoch: 3, step: 300, steps: 300 }, state: 'running' }), 'epoch 3/50');
    assert.equal(progressText({ epochsDone: 50, epochs: 50, step: { epoch: 50, step: 1, steps: 300 }, state: 'done' }), 'epoch 50/50');
  });

  it('a view change carries the changed rows, the new order when runs come or go, and whether the report changed', () => {
    const view = (rows: [string, string][], over: Partial<DirView> = {}): DirView => ({ ...emptyView(0), version: 4, rows: new Map(rows), ...over });
    const prev = view([[A, '<tr>a1</tr>']], { reportKey: 'k1' });
    assert.equal(viewChange(prev, prev), null);
    const grown = viewChange(prev, view([[A, '<tr>a1</tr>'], [B, '<tr>b1</tr>']], { reportKey: 'k2' }));
    assert.deepEqual(grown, { dir: 0, base: 4, version: 5, rows: [[B, '<tr>b1</tr>']], order: [A, B], report: true });
    const changed = viewChange(prev, view([[A, '<tr>a2</tr>']], { reportKey: 'k1', head: '<p>1 run</p>' }));
    assert.deepEqual(changed, { dir: 0, base: 4, version: 5, rows: [[A, '<tr>a2</tr>']], order: null, head: '<p>1 run</p>', report: false });
    const gone = viewChange(view([[A, 'a'], [B, 'b']]), view([[B, 'b']]));
    assert.deepEqual(gone?.order, [B]);
    assert.deepEqual(gone?.rows, []);
  });
});

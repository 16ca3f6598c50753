import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, map, of } from 'rxjs';
import type { OptbenchError } from '../../lib/errors.js';
import { recordArtifacts } from '../../lib/report/record-artifacts.js';
import type { Artifact } from '../../lib/report/types.js';
import { openStore, type Store } from '../../lib/store/store.js';
import { newScheduler } from '../support/marbles.js';

describe('recordArtifacts (marbles)', () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'optbench-artifacts-'));
    store = E.getOrElseW((e: OptbenchError) => assert.fail(e.message))(openStore(join(dir, 'optbench.sqlite')));
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records every file the report wrote, with its size and SHA-256, as it passes', () => {
    const md = join(dir, 'table.md');
    const svg = join(dir, 'fig.svg');
    writeFileSync(md, '| a |\n');
    writeFileSync(svg, '<svg/>');
    const a: Artifact = { kind: 'md', path: md, bytes: 6 };
    const b: Artifact = { kind: 'svg', path: svg, bytes: 6 };
    const seen: number[] = [];
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Artifact>('a-b|', { a, b });
      const out = source.pipe(
        recordArtifacts(store),
        map((x) => {
          // What a stage after it finds in the store.
          seen.push(E.getOrElseW(() => assert.fail())(store.artifacts()).length);
          return x;
        }),
      );
      expectObservable(out).toBe('a-b|', { a, b });
      expectSubscriptions(source.subscriptions).toBe('^--!');
    });
    assert.deepEqual(seen, [1, 2]);
    const rows = E.getOrElseW(() => assert.fail())(store.artifacts());
    assert.deepEqual(
      rows.map((r) => [r.kind, r.path, r.bytes, r.sha256]),
      [
        ['md', md, 6, createHash('sha256').update('| a |\n').digest('hex')],
        ['svg', svg, 6, createHash('sha256').update('<svg/>').digest('hex')],
      ],
    );
  });

  it('a file that is not there cannot be recorded: the stream ends with the store\'s error', () => {
    newScheduler().run(({ cold, expectObservable }) => {
      const gone: Artifact = { kind: 'md', path: join(dir, 'none.md'), bytes: 1 };
      const out = cold<Artifact>('a|', { a: gone }).pipe(
        recordArtifacts(store),
        map(() => 'ok'),
        catchError((e: OptbenchError) => of(e._tag)),
      );
      expectObservable(out).toBe('(e|)', { e: 'IoError' });
    });
  });
});

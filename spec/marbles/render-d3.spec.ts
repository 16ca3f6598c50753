import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { catchError, map, of, throwError } from 'rxjs';
import type { ArtifactFile, ArtifactWriter } from '../../lib/report/artifacts.js';
import { buildReport } from '../../lib/report/build.js';
import { readRunDir } from '../../lib/report/read.js';
import { renderD3, report, type RenderOptions } from '../../lib/report/render.js';
import type { Report, ReportSource } from '../../lib/report/types.js';
import { ioError, OptbenchFailure } from '../../lib/errors.js';
import type { GridEvent } from '../../lib/train/events.js';
import { ended, epochEnded, failed, newScheduler, spec, started } from '../support/marbles.js';

/** A writer that writes nothing and says what it was given, at once (so that marbles see its frames). */
const memory = () => {
  const files: ArtifactFile[] = [];
  const writer: ArtifactWriter = (f) => {
    files.push(f);
    return of({ kind: f.kind, path: f.path, bytes: 0 });
  };
  return { files, writer };
};

/** An error on the error channel, as a value the marble can compare: the tagged value an Error carries. */
const caught = catchError((e: unknown) =>
  of(e instanceof OptbenchFailure ? `${e._tag} ${e.error._tag === 'InvalidConfig' ? e.error.path : ''}: ${e.message}` : `not an OptbenchFailure: ${String(e)}`),
);

const fixture = (name: string): ReportSource => E.getOrElseW(() => assert.fail(name))(readRunDir(`fixtures/rundir-sample/${name}`));

describe('renderD3 (marbles)', () => {
  const a = spec('adam');
  const b = spec('sgd');
  const name = (p: string) => p.replace(/^.*\//, '');

  it('renders each Report that arrives, at its frame, in the formats asked for', () => {
    const { files, writer } = memory();
    const one = buildReport(fixture('single'));
    const two = buildReport(fixture('seeds'));
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Report>('-r--q|', { r: one, q: two });
      expectObservable(source.pipe(renderD3('/out', { formats: ['md'], writer }), map((x) => `${x.kind}:${x.path}`))).toBe('-a--a|', { a: 'md:/out/report/table.md' });
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
    assert.equal(files.length, 2);
  });

  it('from RunEvents: one report when the stream completes, with every planned run (pending ones too)', async () => {
    const { files, writer } = memory();
    newScheduler().run(({ cold, expectObservable }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [a, b], dataset: 'fake', classNames: ['a', 'b'] };
      const source = cold<GridEvent>('g-s-e-x----|', { g, s: started(a), e: epochEnded(a, 1), x: ended(a) });
      expectObservable(source.pipe(renderD3('/out', { formats: ['md', 'csv'], writer, title: 'A grid' }), map((x) => name(x.path)))).toBe('-----------(mc|)', {
        m: 'table.md',
        c: 'table.csv',
      });
    });
    const md = String(await files[0]!.content());
    assert.match(md, /\| FCNN \| final test accuracy \(%\) \| pending \(study 84\.64\) \| \*\*★ 45\.00\*\* \(study 88\.65, Δ -43\.65\) \|/);
  });

  it('live: also after every run that ends, then at completion, each report holding the runs ended by then', async () => {
    const { files, writer } = memory();
    newScheduler().run(({ cold, expectObservable }) => {
      const g: GridEvent = { type: 'GridStarted', specs: [a, b], dataset: 'fashion-mini', classNames: ['a', 'b'] };
      const source = cold<GridEvent>('gs-x-t-f--|', { g, s: started(a), x: ended(a), t: started(b), f: failed(b) });
      const out = source.pipe(renderD3('/out', { formats: ['md'], writer, live: true }), map((x) => `${x.kind}:${x.path}`));
      expectObservable(out).toBe('---t---t--(t|)', { t: 'md:/out/report/table.md' });
    });
    const tables = await Promise.all(files.map(async (f) => String(await f.content())));
    assert.equal(tables.length, 3);
    // After adam ended: its result, sgd pending. After sgd failed, and at completion: sgd failed.
    assert.match(tables[0]!, /\| FCNN \| final test accuracy \(%\) \| pending \(study 84\.64\) \| \*\*★ 45\.00\*\*/);
    for (const t of tables.slice(1)) assert.match(t, /\| FCNN \| final test accuracy \(%\) \| failed \(study 84\.64\) \| \*\*★ 45\.00\*\*/);
  });

  it('options that do not decode are an InvalidConfig at subscription; the source is never subscribed', () => {
    newScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold<Report>('r|');
      const out = source.pipe(renderD3('/out', { formats: ['svgz'] } as unknown as RenderOptions), map(String), caught);
      expectObservable(out).toBe('(e|)', { e: 'InvalidConfig formats[0]: Invalid render options: formats[0] must be a format (html, md, png, svg, csv, tex), got "svgz".' });
      expectSubscriptions(source.subscriptions).toBe([]);
    });
  });

  it('a file that cannot be written ends the stream with its OptbenchError', () => {
    const refused = ioError({ file: '/out/report/table.md', code: 'EACCES', message: 'permission denied' });
    newScheduler().run(({ cold, expectObservable }) => {
      const writer: ArtifactWriter = () => throwError(() => refused);
      const out = cold<Report>('-r|', { r: buildReport(fixture('single')) }).pipe(renderD3('/out', { formats: ['md'], writer }), map(String), caught);
      expectObservable(out).toBe('-(e|)', { e: 'IoError : permission denied' });
    });
  });
});

describe('report (marbles)', () => {
  it('turns each ReportSource into its Report, at its frame', () => {
    const src = fixture('partial');
    newScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<ReportSource>('-s|', { s: src }).pipe(report())).toBe('-r|', { r: buildReport(src) });
    });
  });
});

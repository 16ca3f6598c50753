/**
 * Bad input around run directories and stores (imported by spec/bad-input.spec.ts, which writes the rows
 * these tests observe into docs/bad-inputs.md): optbench writes only into new, empty or run directories;
 * commands that only read never write the store or the directory, even on a read-only copy; a store that
 * is empty or foreign is refused, never re-initialised, and can be rebuilt from runs/*.json; a report
 * ranks only runs of one protocol; `optbench runs` tells apart runs that differ only in their overrides.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  behaviourRows,
  cli,
  cliUnprivileged,
  errorRows,
  grid,
  normaliser,
  testRef,
  printedError,
  UNPRIVILEGED,
  withOpt,
  type Ran,
} from './support/bad-input.js';

let tmp = '';
const T = (...p: string[]) => join(tmp, ...p);
const norm = normaliser(() => tmp);
const lastLine = (r: Ran) => r.stderr.trimEnd().split('\n').at(-1) ?? '';

/** Every file under `dir` (directories included) with its size, mode and SHA-256: what "nothing changed" compares. */
const snapshot = (dir: string): Record<string, string> => {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      const key = relative(dir, p);
      if (st.isDirectory()) {
        out[`${key}/`] = `dir ${(st.mode & 0o777).toString(8)}`;
        walk(p);
      } else out[key] = `${st.size} ${(st.mode & 0o777).toString(8)} ${st.mtimeMs} ${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
    }
  };
  walk(dir);
  return out;
};

const chmodTree = (dir: string, mode: 'ro' | 'rw') => {
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else chmodSync(p, mode === 'ro' ? 0o444 : 0o644);
    }
    chmodSync(d, mode === 'ro' ? 0o555 : 0o755);
  };
  walk(dir);
};

const ok = (r: Ran, what: string) => assert.equal(r.code, 0, `${what}: ${r.stderr}`);

/** A finished run directory: FCNN with SGD and Adam (or `optimizers`), one epoch (or `epochs`) of 50 images. */
const finished = async (dir: string, optimizers = 'sgd,adam', epochs = 1): Promise<void> => {
  const ran = await cli(withOpt(withOpt(grid(dir), '--optimizers', optimizers), '--epochs', String(epochs)));
  ok(ran, `the grid into ${dir}`);
};

describe('bad input: run directories and stores', function () {
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-rundir-'));
    await finished(T('done'));
  });
  after(() => {
    if (existsSync(T('ro'))) chmodTree(T('ro'), 'rw');
    rmSync(tmp, { recursive: true, force: true });
  });

  it("refuses a directory holding the user's files and leaves every one as it was; --force writes into it", async function () {
    const dir = T('mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'results.md'), '# my own results\n');
    writeFileSync(join(dir, 'report.html'), '<p>my own report</p>\n');
    const before = snapshot(dir);
    const refused = await cli(grid(dir));
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(lastLine(refused), /not an optbench run directory.*--force/);
    assert.deepEqual(snapshot(dir), before, 'nothing in the directory changed');
    const forced = await cli([...grid(dir), '--force']);
    ok(forced, '--force');
    assert.ok(existsSync(join(dir, 'optbench.sqlite')) && existsSync(join(dir, 'grid.json')));
    behaviourRows.push({
      input: 'a directory holding files optbench did not write, with --force',
      argv: [...grid(norm(dir)), '--force'],
      exit: forced.code ?? -1,
      does: 'writes the run into it, as asked (without --force the directory is refused and left as it was)',
      test: testRef(import.meta.filename, this.test),
    });
  });

  it('runs, export and report work on a read-only copy of a run directory and change no file in it', async function () {
    const ro = T('ro');
    cpSync(T('done'), ro, { recursive: true });
    // On a writable copy first: the read-only commands create nothing (not even SQLite's -wal/-shm files).
    const rwBefore = snapshot(ro);
    const rwRuns = await cli(['runs', ro, '--json']);
    const rwExport = await cli(['export', ro, '--format', 'json']);
    ok(rwRuns, 'runs');
    ok(rwExport, 'export');
    assert.deepEqual(snapshot(ro), rwBefore, 'runs and export changed or created files in a writable run directory');

    chmodTree(ro, 'ro');
    const before = snapshot(ro);
    // As root chmod stops no write: these run without the capabilities that let root ignore file modes, so
    // the kernel refuses every write here; passing means the commands need no write access at all (and the
    // snapshot, that they wrote nothing). What it does not prove: a read-only mount (EROFS), which the
    // same code path meets with another errno, named by the same messages (see fsCause).
    const runs = await cliUnprivileged(['runs', ro]);
    const json = await cliUnprivileged(['runs', ro, '--json']);
    const csv = await cliUnprivileged(['export', ro, '--format', 'csv']);
    const exported = await cliUnprivileged(['export', ro, '--format', 'json']);
    mkdirSync(T('ro-report'));
    const report = await cliUnprivileged(['report', ro, '--out', T('ro-report'), '--format', 'md,html']);
    for (const [r, what] of [[runs, 'runs'], [json, 'runs --json'], [csv, 'export csv'], [exported, 'export json'], [report, 'report --out']] as const)
      ok(r, `${what} on a read-only copy (as ${r.as})`);
    assert.deepEqual(snapshot(ro), before, 'a read-only command changed the read-only copy');
    assert.match(runs.stdout, /fcnn\/sgd\/s0 +done +1\/1/);
    assert.match(runs.stdout, /fcnn\/adam\/s0 +done +1\/1/);
    assert.deepEqual(JSON.parse(json.stdout), JSON.parse(rwRuns.stdout), 'runs --json reads the same from the read-only copy');
    assert.equal(exported.stdout, rwExport.stdout, 'export reads the same from the read-only copy');
    assert.match(csv.stdout.split('\n')[0]!, /^run_id,label,status/);
    assert.ok(existsSync(join(T('ro-report'), 'report.html')));
    behaviourRows.push({
      input: `\`runs\`, \`export\`, \`report --out\` on a read-only copy of a run directory, ${UNPRIVILEGED}`,
      argv: ['runs', norm(ro)],
      exit: runs.code ?? -1,
      does: 'reads the store without writing anything (from a copy in memory where SQLite cannot read in place); every file stays byte-identical',
      test: testRef(import.meta.filename, this.test),
    });

    // What needs to write, on a read-only directory: an IoError naming the path and the cause.
    const into = await cliUnprivileged(grid(join(ro, 'new')));
    assert.equal(into.code, 1, into.stderr);
    assert.match(lastLine(into), /Cannot write the output directory .*ro\/new: (permission denied|the file system is read-only)\. Choose another with --out DIR\./);
    const self = await cliUnprivileged(['report', ro]);
    assert.equal(self.code, 1, self.stderr);
    assert.match(lastLine(self), /ro\/report.*: (permission denied|the file system is read-only): choose a directory you can write \(--out DIR\)/);
    assert.deepEqual(snapshot(ro), before);
    errorRows.push(
      { input: `\`run --out\` inside a read-only directory, ${UNPRIVILEGED}`, argv: grid(norm(join(ro, 'new'))), tag: 'IoError', exit: 1, message: norm(printedError('IoError', into).message) },
      { input: `\`report\` into a read-only run directory, ${UNPRIVILEGED}`, argv: ['report', norm(ro)], tag: 'IoError', exit: 1, message: norm(printedError('IoError', self).message) },
    );
  });

  it('a 0-byte store is refused (never re-created), report warns on stderr and reads runs/*.json, and rebuild restores it', async function () {
    const dir = T('zero');
    cpSync(T('done'), dir, { recursive: true });
    const original = await cli(['export', dir, '--format', 'json']);
    ok(original, 'export of the intact store');
    const store = join(dir, 'optbench.sqlite');
    writeFileSync(store, '');

    const runs = await cli(['runs', dir]);
    assert.equal(runs.code, 1, runs.stderr);
    assert.match(lastLine(runs), /optbench\.sqlite is empty \(0 bytes\).*does not re-initialise it.*runs holds 2 run records.*'optbench rebuild .*zero'/);
    assert.equal(statSync(store).size, 0, 'the empty store was re-initialised');
    const again = await cli(grid(dir));
    assert.equal(again.code, 1, again.stderr);
    assert.equal(statSync(store).size, 0, 'a grid re-initialised the empty store');

    // The report reads runs/*.json instead, and says so on stderr, not only inside the report.
    const report = await cli(['report', dir, '--out', T('zero-report'), '--format', 'md']);
    ok(report, 'report');
    assert.match(report.stderr, /^optbench: warning: Read runs\/\*\.json instead of the store: .*is empty \(0 bytes\)/m);
    assert.match(readFileSync(join(T('zero-report'), 'report', 'table.md'), 'utf8'), /\| FCNN \|/);

    // Rebuilt from runs/*.json: the same runs, epochs and results; the same command then skips them.
    const refused = await cli(['rebuild', dir]);
    assert.equal(refused.code, 1);
    assert.match(lastLine(refused), /exists: optbench rebuilds a store only where there is none\. Move it away first/);
    renameSync(store, `${store}.bad`);
    const rebuilt = await cli(['rebuild', dir]);
    ok(rebuilt, 'rebuild');
    assert.match(rebuilt.stderr, /Rebuilt .*optbench\.sqlite from 2 run records: 2 done\./);
    const after = await cli(['export', dir, '--format', 'json']);
    ok(after, 'export of the rebuilt store');
    const content = (text: string) =>
      (JSON.parse(text) as { runId: string; spec: unknown; status: string; epochs: unknown[]; final: unknown; confusion: unknown }[])
        .map((r) => ({ runId: r.runId, spec: r.spec, status: r.status, epochs: r.epochs, final: r.final, confusion: r.confusion }))
        .sort((a, b) => (a.runId < b.runId ? -1 : 1));
    assert.deepEqual(content(after.stdout), content(original.stdout));
    const resumed = await cli(withOpt(grid(dir), '--optimizers', 'sgd,adam'));
    ok(resumed, 'the same grid after the rebuild');
    assert.equal((resumed.stderr.match(/finished earlier, skipped/g) ?? []).length, 2, resumed.stderr);
    errorRows.push({ input: '`rebuild` where a store exists', argv: ['rebuild', norm(dir)], tag: 'StoreError', exit: 1, message: norm(printedError('StoreError', refused).message) });
    behaviourRows.push(
      {
        input: '`report` of a run directory whose store is damaged (here 0 bytes)',
        argv: ['report', norm(dir), '--out', norm(T('zero-report')), '--format', 'md'],
        exit: report.code ?? -1,
        does: 'reads runs/*.json instead and says so on stderr (optbench: warning: ...), with how to rebuild the store',
        test: testRef(import.meta.filename, this.test),
      },
      {
        input: '`rebuild` after moving a damaged store away',
        argv: ['rebuild', norm(dir)],
        exit: rebuilt.code ?? -1,
        does: 'writes a new store from runs/*.json (every epoch and result; unfinished runs as interrupted), never over an existing file; the same command then skips the finished runs',
        test: testRef(import.meta.filename, this.test),
      },
    );
  });

  it('a report ranks only runs of one protocol: runs of another are left out with a warning', async function () {
    // A directory written before one directory held one protocol: one-epoch runs of SGD and Adam, then a
    // two-epoch SGD grid (as grid.json says), with no store (the report reads runs/*.json).
    await finished(T('two-epochs'), 'sgd', 2);
    const mixed = T('mixed');
    mkdirSync(join(mixed, 'runs'), { recursive: true });
    for (const d of ['done', 'two-epochs'])
      for (const f of readdirSync(join(T(d), 'runs'))) cpSync(join(T(d), 'runs', f), join(mixed, 'runs', f));
    cpSync(join(T('two-epochs'), 'grid.json'), join(mixed, 'grid.json'));
    const report = await cli(['report', mixed, '--format', 'md']);
    ok(report, 'report');
    assert.match(
      report.stderr,
      /^optbench: warning: Left out 2 runs of another protocol \(epochs 1 \(not 2\)\): a report ranks only runs of one protocol against each other, here fashion-mini, 2 epochs/m,
    );
    const table = readFileSync(join(mixed, 'report', 'table.md'), 'utf8');
    const header = table.split('\n')[0]!;
    assert.doesNotMatch(header, /adam/, 'the one-epoch Adam run is ranked against the two-epoch SGD run');
    const twoEpochSgd = (JSON.parse(readFileSync(join(T('two-epochs'), 'runs', readdirSync(join(T('two-epochs'), 'runs'))[0]!), 'utf8')) as { final: { testAccuracy: number } }).final;
    assert.match(table, new RegExp(`\\*\\*★ ${(100 * twoEpochSgd.testAccuracy).toFixed(2)}\\*\\*`), 'the two-epoch SGD run is the one reported');
    behaviourRows.push({
      input: '`report` of a directory holding runs of two protocols (written before a directory held one)',
      argv: ['report', norm(mixed), '--format', 'md'],
      exit: report.code ?? -1,
      does: "ranks only the runs of grid.json's protocol and warns on stderr which runs it left out and how their protocol differs",
      test: testRef(import.meta.filename, this.test),
    });
  });

  it('`runs` tells apart runs that differ only in their optimizer overrides', async function () {
    const dir = T('overrides');
    await finished(dir, 'adam,adam:lr=0.01,beta2=0.99');
    const runs = await cli(['runs', dir]);
    ok(runs, 'runs');
    const labels = runs.stdout.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[0]);
    assert.deepEqual(labels, ['fcnn/adam/s0', 'fcnn/adam:beta2=0.99,lr=0.01/s0']);
    const json = await cli(['runs', dir, '--json']);
    const overrides = (JSON.parse(json.stdout) as { runs: { overrides: unknown }[] }).runs.map((r) => r.overrides);
    assert.deepEqual(overrides, [{}, { lr: 0.01, beta2: 0.99 }]);
    behaviourRows.push({
      input: '`runs` of a directory with adam and adam:lr=0.01,beta2=0.99',
      argv: ['runs', norm(dir)],
      exit: runs.code ?? -1,
      does: 'names each run with its overrides (fcnn/adam/s0, fcnn/adam:beta2=0.99,lr=0.01/s0); --json has them as overrides',
      test: testRef(import.meta.filename, this.test),
    });
  });
});

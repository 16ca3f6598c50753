import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { describeProtocol, protocolKey, protocolOf } from '../../lib/config/protocol.js';
import { scheduleText } from '../../lib/config/schedule.js';
import { runDisplayLabel, runId, runLabel, type RunSpec } from '../../lib/config/spec.js';
import { gridSpecs } from '../../lib/store/run-dir.js';
import { invalidConfig, printable, toOptbenchError, unknown, type OptbenchError } from '../../lib/errors.js';
import { isOneOf } from '../../lib/one-of.js';
import { openStore, STORE_FILE, type Store } from '../../lib/store/store.js';
import type { ExportFormat } from '../../lib/store/export.js';
import type { RunRow } from '../../lib/store/types.js';
import { fail } from './exit.js';
import { parseOptions } from './options.js';

/** Opens the store of a run directory read-only (nothing is written, and a read-only copy works), runs `f` on it and closes it. */
const withStore = <A>(dir: string, f: (s: Store) => E.Either<OptbenchError, A>): E.Either<OptbenchError, A> => {
  const opened = openStore(join(resolve(dir), STORE_FILE), { readonly: true });
  if (E.isLeft(opened)) return opened;
  try {
    return f(opened.right);
  } finally {
    opened.right.close();
  }
};

/** Why a run is where it is, in a few words: what failed, who trains it, where it stopped. */
const runNote = (r: RunRow): string => {
  switch (r.status) {
    case 'failed':
      return r.error?.message ?? 'failed (no reason recorded)';
    case 'running':
      return r.owner !== null ? `trained now by pid ${r.owner.pid} on ${r.owner.host}` : '';
    case 'interrupted':
      return `stopped after epoch ${r.epochsDone}; run the same command again to continue`;
    case 'pending':
      return r.owner !== null ? `claimed by pid ${r.owner.pid} on ${r.owner.host}` : 'not started';
    case 'done':
      return '';
  }
};

/** A run grid.json plans and the store has not seen yet, as a row: pending, no epoch, no owner. */
const notStarted = (spec: RunSpec): RunRow => ({
  runId: runId(spec),
  label: runLabel(spec),
  spec,
  status: 'pending',
  error: null,
  epochsDone: 0,
  epochs: spec.epochs,
  backend: null,
  parameters: null,
  steps: null,
  progress: null,
  trainMs: null,
  evalMs: null,
  final: null,
  versions: { optbench: null, tfjs: null, node: '' },
  host: null,
  pid: null,
  owner: null,
  createdAt: '',
  startedAt: null,
  updatedAt: '',
  finishedAt: null,
});

/** What `runs --json` prints per run: plain data for scripts. */
const runSummary = (r: RunRow) => ({
  runId: r.runId,
  label: r.label,
  model: r.spec.model,
  optimizer: r.spec.optimizer.name,
  overrides: r.spec.optimizer.overrides,
  /** The learning-rate schedule in the --optimizers grammar (`schedule=cosine,warmup=500`); null for the constant rate. */
  schedule: scheduleText(r.spec.optimizer.schedule) || null,
  preset: r.spec.optimizer.preset,
  seed: r.spec.seed,
  status: r.status,
  epochsDone: r.epochsDone,
  epochs: r.epochs,
  final: r.final === null ? null : { testLoss: Number.isFinite(r.final.testLoss) ? r.final.testLoss : null, testAccuracy: r.final.testAccuracy },
  error: r.error === null ? null : { tag: r.error._tag, message: r.error.message },
  owner: r.owner,
  backend: r.backend,
  startedAt: r.startedAt,
  finishedAt: r.finishedAt,
});

const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '' : `${(100 * x).toFixed(2)}%`);

/**
 * A fixed-width table of the runs, one line each. A run is named with its optimizer's overrides
 * (`fcnn/adam:lr=0.01/s0`), so that no two lines look alike; when the runs are of several protocols
 * (a directory written before one directory held one protocol), each line says which.
 */
const runsTable = (rows: readonly RunRow[]): string => {
  const protocols = [...new Set(rows.map((r) => protocolKey(protocolOf(r.spec))))];
  const head = ['run', 'status', 'epochs', 'test acc', 'test loss', 'note'];
  const body = rows.map((r) => [
    protocols.length > 1 ? `${runDisplayLabel(r.spec)} [${describeProtocol(protocolOf(r.spec))}]` : runDisplayLabel(r.spec),
    r.status,
    `${r.epochsDone}/${r.epochs}`,
    pct(r.final?.testAccuracy),
    r.final === null ? '' : r.final.testLoss.toFixed(4),
    runNote(r),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const counts = ['done', 'running', 'pending', 'interrupted', 'failed']
    .map((s) => [s, rows.filter((r) => r.status === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return [line(head), ...body.map(line), '', `${rows.length} runs: ${counts.join(', ') || 'none'}`].join('\n') + '\n';
};

/** `optbench runs <run-dir> [--json]`: every run of the store with its status, progress and final metrics. */
export const runsCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, { json: { type: 'boolean' } }, { command: 'runs', names: ['<run-dir>'] });
  if (E.isLeft(p)) return fail(p.left);
  const dir = p.right.positionals[0];
  if (dir === undefined)
    return fail(invalidConfig({ path: 'run-dir', message: 'Usage: optbench runs <run-dir> [--json] (the --out directory of a task or run).' }));
  const stored = withStore(dir, (s) => s.listRuns());
  if (E.isLeft(stored)) return fail(stored.left);
  // The runs grid.json plans that the store has no row of yet (a grid under way): pending, not started.
  const known = new Set(stored.right.map((r) => r.runId));
  const planned = (gridSpecs(resolve(dir)) ?? []).filter((s) => !known.has(runId(s))).map(notStarted);
  const rows = { right: [...stored.right, ...planned] };
  process.stdout.write(
    p.right.values.json === true ? `${JSON.stringify({ runs: rows.right.map(runSummary) })}\n` : runsTable(rows.right),
  );
  return 0;
};

const FORMATS: readonly ExportFormat[] = ['csv', 'json'];

/** `optbench export <run-dir> --format csv|json [--out FILE]`: every run and epoch from the store. */
export const exportCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, { format: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } }, { command: 'export', names: ['<run-dir>'] });
  if (E.isLeft(p)) return fail(p.left);
  const dir = p.right.positionals[0];
  if (dir === undefined)
    return fail(invalidConfig({ path: 'run-dir', message: 'Usage: optbench export <run-dir> --format csv|json [--out FILE].' }));
  const format = p.right.values.format ?? 'csv';
  if (!isOneOf(FORMATS)(format)) {
    const e = unknown('option', String(format), FORMATS);
    return fail(
      invalidConfig({
        path: 'format',
        message: `Unknown export format '${printable(String(format))}'.${e.suggestion ? ` Did you mean '${e.suggestion}'?` : ''} Use --format csv or --format json.`,
      }),
    );
  }
  const out = p.right.values.out;
  if (typeof out === 'string' && out.trim() === '')
    return fail(invalidConfig({ path: 'out', message: `--out '${printable(out)}' is empty: give the file to write, or leave out --out to print the export.` }));
  // Never overwrite a file optbench did not write (a device such as /dev/stdout is no file of anyone's).
  if (typeof out === 'string' && p.right.values.force !== true && existsSync(out) && !out.startsWith('/dev/'))
    return fail(
      invalidConfig({ path: 'out', message: `${printable(out)} exists: optbench does not overwrite it. Choose another --out FILE, or add --force to replace it.` }),
    );
  const text = withStore(dir, (s) => s.exportRuns(format));
  if (E.isLeft(text)) return fail(text.left);
  if (typeof out !== 'string') {
    process.stdout.write(text.right);
    return 0;
  }
  try {
    writeFileSync(out, text.right);
  } catch (u) {
    // A write on an open file reports no path: name the file here.
    const code = (u as NodeJS.ErrnoException).code;
    const e = toOptbenchError(code !== undefined && (u as NodeJS.ErrnoException).path === undefined ? Object.assign(u as Error, { path: out }) : u);
    if (e._tag !== 'IoError') return fail(e);
    const why = e.code === 'ENOENT' ? `${out}: its directory does not exist` : e.message;
    return fail({ ...e, message: `Cannot write the export to ${why}; choose another --out FILE, or leave out --out to print it.` });
  }
  process.stderr.write(`Exported to ${out}\n`);
  return 0;
};

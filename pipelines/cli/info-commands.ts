import * as E from 'fp-ts/lib/Either.js';
import { checkData, type DataReport } from '../../lib/data/check.js';
import { invalidConfig, unknown } from '../../lib/errors.js';
import { feedProblem } from '../../lib/models/feeds.js';
import { BUILT_IN_MODELS } from '../../lib/models/registry.js';
import { BUILT_IN_REGISTRIES, type Registries } from './registries.js';
import { listOptimizers } from '../../lib/optimizers/index.js';
import { fail } from './exit.js';
import { parseOptions } from './options.js';

/**
 * Which registered models the data can feed, and why not the others: the image shape must be the model's
 * input; a classifier must output the classes the data set declares or, when it declares none, at least
 * as many as its labels reach.
 */
const modelsFed = (r: DataReport): { readonly feeds: readonly string[]; readonly not: readonly string[] } | undefined => {
  const split = r.train;
  if (split === undefined) return undefined;
  const seen = r.classesSeen ?? 0;
  const feeds: string[] = [];
  const not: string[] = [];
  for (const m of BUILT_IN_MODELS.list()) {
    const classes = r.classes ?? (m.classes !== null && m.classes >= seen ? m.classes : seen);
    const why =
      r.classes === undefined && m.classes !== null && m.classes < seen
        ? `${m.name} outputs ${m.classes} classes but the labels reach ${seen - 1}`
        : feedProblem(m, { rows: split.rows, cols: split.cols, channels: 1, classes });
    if (why === undefined) feeds.push(m.name);
    else not.push(why);
  }
  return { feeds, not };
};

const fmt = (v: number | boolean): string => (typeof v === 'number' ? String(v) : v ? 'true' : 'false');

/** `optbench list [--json]`: models with Keras parameter counts; optimizers with every default per preset. */
export const listCommand = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<number> => {
  const p = parseOptions(argv, { json: { type: 'boolean' } }, { command: 'list', names: [] });
  if (E.isLeft(p)) return fail(p.left);
  const models = reg.models.list();
  const optimizers = listOptimizers(reg.optimizers);
  if (p.right.values.json === true) {
    process.stdout.write(
      `${JSON.stringify({
        models: models.map((m) => ({
          name: m.name,
          kind: m.kind,
          parameters: m.parameters,
          inputShape: m.inputShape,
          classes: m.classes,
          description: m.description,
        })),
        optimizers: optimizers.map((o) => ({
          name: o.name,
          preset: o.preset,
          defaults: o.defaults,
          sources: o.sources,
          rule: o.rule,
        })),
      })}\n`,
    );
    return 0;
  }
  const lines = ['Models (parameters as Keras counts them):'];
  for (const m of models) lines.push(`  ${m.name.padEnd(6)} ${m.parameters.toLocaleString('en-US').padStart(10)}  ${m.description}`);
  lines.push('', 'Optimizers (defaults per preset; tfkeras2 is the study\'s):');
  let preset = '';
  for (const o of optimizers) {
    if (o.preset !== preset) {
      preset = o.preset;
      lines.push(`  preset ${preset}:`);
    }
    const values = Object.entries(o.defaults)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join(' ');
    lines.push(`    ${o.name.padEnd(9)} ${values}`);
    for (const [k, src] of Object.entries(o.sources)) lines.push(`${' '.repeat(14)}${k}: ${src}`);
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
};

/**
 * `optbench data check [--data-dir D] [--dataset NAME]`: where the data is, whether it verifies, and which
 * models it can feed. Exit 0 when the data verifies and feeds at least one model.
 */
export const dataCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, {
    'data-dir': { type: 'string' },
    dir: { type: 'string' },
    dataset: { type: 'string' },
    json: { type: 'boolean' },
  }, { command: 'data', names: ['check'] });
  if (E.isLeft(p)) return fail(p.left);
  const sub = p.right.positionals[0];
  if (sub !== 'check') {
    return sub === undefined
      ? fail(invalidConfig({ path: 'data', message: 'Usage: optbench data check [--data-dir D] [--dataset NAME].' }))
      : fail(unknown('command', `data ${sub}`, ['data check']));
  }
  const v = p.right.values;
  const dir = typeof v['data-dir'] === 'string' ? v['data-dir'] : typeof v.dir === 'string' ? v.dir : undefined;
  const report = await checkData({
    ...(dir !== undefined ? { dir } : {}),
    ...(typeof v.dataset === 'string' ? { dataset: v.dataset } : {}),
  });
  if (E.isLeft(report)) return fail(report.left);
  const r = report.right;
  const fed = modelsFed(r);
  const ok = r.ok && fed !== undefined && fed.feeds.length > 0;
  if (v.json === true) {
    process.stdout.write(`${JSON.stringify({ ...r, ok, ...(fed !== undefined ? { models: fed } : {}) })}\n`);
    return ok ? 0 : 1;
  }
  const lines = [
    `Data set: ${r.dataset}`,
    `Looked in: ${r.searched.map((c) => `${c.dir} (${c.source})`).join(', ')}`,
    `Found in: ${r.dir} (${r.source}); checksums: ${r.checksums}`,
  ];
  for (const f of r.files) {
    lines.push(
      `  ${f.status.padEnd(10)} ${f.name}${f.size !== undefined ? ` ${f.size} bytes` : ''}${f.md5 ? ` md5 ${f.md5}` : ''}${
        f.dims ? ` dims ${f.dims.join('x')}` : ''
      }${f.problem ? `: ${f.problem}` : ''}`,
    );
  }
  if (r.train) lines.push(`Train: ${r.train.count} images of ${r.train.rows}x${r.train.cols}`);
  if (r.test) lines.push(`Test: ${r.test.count} images of ${r.test.rows}x${r.test.cols}`);
  if (r.classesSeen !== undefined)
    lines.push(
      r.classes !== undefined
        ? `Classes: ${r.classes} (declared by ${r.dataset}; labels seen 0..${r.classesSeen - 1})`
        : `Classes: not declared; labels seen 0..${r.classesSeen - 1}, so a classifier must output at least ${r.classesSeen}`,
    );
  if (fed !== undefined) {
    lines.push(`Models it can feed: ${fed.feeds.length > 0 ? fed.feeds.join(', ') : 'none'}`);
    for (const why of fed.not) lines.push(`  not: ${why}`);
  }
  const problems = [...r.problems, ...(r.ok && fed !== undefined && fed.feeds.length === 0 ? ['no registered model can be trained on this data'] : [])];
  lines.push(ok ? 'OK: the data verifies.' : `NOT OK:\n${problems.map((x) => `  - ${x}`).join('\n')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return ok ? 0 : 1;
};

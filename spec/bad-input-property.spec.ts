/**
 * Bad input over families of inputs (fast-check; imported by spec/bad-input.spec.ts): every rule of
 * docs/bad-inputs.md holds for any input of its kind, not only for the cases in the table.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { parseRunCommand, parseTaskCommand } from '../pipelines/cli/grid-command.js';
import { GRID_OPTIONS, LIMITS } from '../pipelines/cli/options.js';
import { parseSweepCommand } from '../pipelines/cli/sweep-args.js';
import { checkDatasetName } from '../lib/data/locate.js';
import { loadDataset } from '../lib/data/load.js';
import type { OptbenchError } from '../lib/errors.js';
import { checkFeeds } from '../lib/models/feeds.js';
import { BUILT_IN_MODELS } from '../lib/models/registry.js';
import { divergence, divergenceBound } from '../lib/train/divergence.js';
import { fixtureCopy, grid, relabelled, withOpt } from './support/bad-input.js';

let tmp = '';
const T = (...p: string[]) => join(tmp, ...p);

/** The error a `run` command line is refused with; fails when it is accepted. */
const refusal = async (argv: readonly string[]): Promise<OptbenchError> => {
  const [command, ...rest] = argv;
  const parsed: E.Either<OptbenchError, unknown> = await (command === 'sweep'
    ? parseSweepCommand(rest)
    : command === 'task'
      ? parseTaskCommand(rest)
      : parseRunCommand(rest));
  if (E.isRight(parsed)) throw new Error(`accepted: ${JSON.stringify(argv)}`);
  return parsed.left;
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Any text holding at least one control character (newline, escape, NUL, DEL, C1, line separators). */
const withControl = fc
  .tuple(
    fc.string({ maxLength: 6 }),
    fc.constantFrom('\n', '\r', '\t', '\u0000', '\u001b[2J', '\u0007', '\u007f', '\u0085', '\u2028'),
    fc.string({ maxLength: 6 }),
  )
  .map(([a, c, b]) => `${a}${c}${b}`);

const OUT = () => T('never');
const OPTS = { numRuns: 40 };

describe('bad input: properties over families of inputs', function () {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-props-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
  afterEach(() => assert.ok(!existsSync(OUT()), 'a refused command created its output directory'));

  it('a name with control characters, wherever it is echoed, is refused in one line with them escaped', async () => {
    await fc.assert(
      fc.asyncProperty(withControl, fc.constantFrom('--models', '--optimizers', '--preset', '--backend', '--dataset', 'task', 'option'), async (name, where) => {
        const argv =
          where === 'task' ? ['task', name, '--backend', 'cpu', '--out', OUT()] : where === 'option' ? [...grid(OUT()), `--x${name}`] : withOpt(grid(OUT()), where, name);
        const e = await refusal(argv);
        assert.ok(e._tag === 'UnknownName' || e._tag === 'InvalidConfig', `${e._tag}: ${e.message}`);
        assert.doesNotMatch(e.message, CONTROL, `an unescaped control character in: ${JSON.stringify(e.message)}`);
      }),
      OPTS,
    );
  });

  it('every count above its bound is refused before anything is written, naming the bound', async () => {
    const run = ['epochs', 'batch-size', 'subset', 'test-subset', 'seeds'] as const;
    const sweep = ['trials', 'concurrency', 'eta', 'min-epochs', 'holdout'] as const;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...run, ...sweep), fc.bigInt({ min: 1n, max: 10n ** 30n }), async (option, over) => {
        const limit = LIMITS[option];
        const value = String(BigInt(limit) + over);
        const argv = (run as readonly string[]).includes(option)
          ? option === 'seeds'
            ? [...grid(OUT()), '--seeds', value]
            : withOpt(grid(OUT()), `--${option}`, value)
          : ['sweep', '--model', 'fcnn', '--optimizer', 'adam', '--space', 'lr=log(1e-4,1e-1)', '--backend', 'cpu', '--out', OUT(), `--${option}`, value];
        const e = await refusal(argv);
        assert.equal(e._tag, 'InvalidConfig');
        assert.ok(e.message.includes(`--${option} must be at most ${limit.toLocaleString('en-US')}`), e.message);
      }),
      OPTS,
    );
  });

  it('a grid planning more runs than the bound is refused, whatever its factors', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: LIMITS.seeds }), async (models, optimizers, seeds) => {
        const argv = withOpt(
          withOpt([...grid(OUT()), '--seeds', String(seeds)], '--models', ['fcnn', 'scnn', 'bcnn', 'mcnn', 'vae1', 'vae2'].slice(0, models).join(',')),
          '--optimizers',
          ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'].slice(0, optimizers).join(','),
        );
        const runs = models * optimizers * seeds;
        if (runs <= LIMITS.runs) {
          const parsed = await parseRunCommand(argv.slice(1));
          assert.ok(E.isRight(parsed), E.isLeft(parsed) ? parsed.left.message : '');
          rmSync(OUT(), { recursive: true, force: true });
        } else assert.match((await refusal(argv)).message, new RegExp(`would plan ${runs.toLocaleString('en-US')} runs`));
      }),
      OPTS,
    );
  });

  it('any option given twice is refused, and so is any argument a command does not take', async () => {
    const names = Object.keys(GRID_OPTIONS) as (keyof typeof GRID_OPTIONS)[];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...names), fc.string({ minLength: 1, maxLength: 8 }).filter((s) => !s.startsWith('-')), async (name, stray) => {
        const twice = GRID_OPTIONS[name].type === 'boolean' ? [...grid(OUT()), `--${name}`, `--${name}`] : [...grid(OUT()), `--${name}`, '1', `--${name}`, '2'];
        assert.match((await refusal(twice)).message, new RegExp(`Option '--${name}' is given (2|3) times`));
        assert.match((await refusal([...grid(OUT()), stray])).message, /^Unexpected argument '.*': optbench run takes no arguments/);
        assert.match((await refusal(['task', 'quick', stray, '--backend', 'cpu', '--out', OUT()])).message, /^Unexpected argument '.*': optbench task takes <task> and options/);
      }),
      OPTS,
    );
  });

  it('an empty or blank --out is refused', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0'), { maxLength: 5 }).map((a) => a.join('')), async (blank) => {
        const e = await refusal(withOpt(grid(OUT()), '--out', blank));
        assert.equal(e._tag, 'InvalidConfig');
        assert.match(e.message, /^--out '.*' is empty/);
      }),
      OPTS,
    );
  });

  it('a data-set name is a name: anything with a path separator, or not starting with a letter or digit, is refused', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.constantFrom('/', '..', '.', '\\', '\n', ''), fc.boolean(), (name, bad, before) => {
        const candidate = bad === '..' || bad === '.' ? `${bad}${name}` : before ? `${bad}${name}` : `${name}${bad}`;
        const isName = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(candidate);
        const r = checkDatasetName(candidate);
        assert.equal(E.isRight(r), isName, candidate);
        if (candidate.includes('/') || candidate.startsWith('.')) assert.ok(E.isLeft(r), candidate);
      }),
      { numRuns: 200 },
    );
  });

  it('a label outside the classes, in the training or the test labels, is a CorruptIdx naming that file', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('train', 't10k'), fc.nat({ max: 149 }), fc.integer({ min: 10, max: 255 }), fc.boolean(), async (split, at, label, declared) => {
        const dir = fixtureCopy(T('labels', String(n++)), (d) => relabelled(join(d, `${split}-labels-idx1-ubyte.gz`), { [at]: label }), false);
        // fashion-mini declares its 10 classes; any other name has as many as the models output (10 here).
        const r = await loadDataset({ dir, dataset: declared ? 'fashion-mini' : 'another-set', classes: 10 });
        assert.ok(E.isLeft(r));
        assert.equal(r.left._tag, 'CorruptIdx');
        assert.match(r.left.message, new RegExp(`${split}-labels-idx1-ubyte\\.gz has label \\d+ but`));
        rmSync(dir, { recursive: true });
      }),
      { numRuns: 15 },
    );
  });

  it('a model is refused images of any other shape, naming the model and both shapes', () => {
    const models = BUILT_IN_MODELS.list();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 64 }), fc.constantFrom(...models.map((m) => m.name)), (rows, cols, name) => {
        const r = checkFeeds([name], { rows, cols, channels: 1, classes: 10 }, 'some-set');
        if (rows === 28 && cols === 28) assert.ok(E.isRight(r));
        else {
          assert.ok(E.isLeft(r));
          assert.ok(r.left.message.includes(`${name} needs 28x28x1 images but these are ${rows}x${cols}x1`), r.left.message);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('a run diverges exactly when its loss is not finite or above the bound', () => {
    const spec = { dataset: 'd', model: 'fcnn', optimizer: { name: 'sgd', preset: 'tfkeras2', overrides: { lr: 1e9 } }, seed: 0, epochs: 1, batchSize: 50, backend: 'cpu' };
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.oneof(fc.double(), fc.constantFrom(NaN, Infinity, -Infinity)), (reference, loss) => {
        const d = divergence(spec, loss, reference, { epoch: 1, step: 2, what: 'training loss', at: 'at epoch 1, step 2' });
        const expected = !Number.isFinite(loss) || loss > divergenceBound(reference);
        assert.equal(d !== null, expected, `loss ${loss}, reference ${reference}`);
        if (d !== null) assert.match(d.message, /^fcnn\/sgd:lr=1e9 diverged: the training loss /);
      }),
      { numRuns: 500 },
    );
  });
});

/**
 * The package as a user's project sees it: each entry point package.json `exports` declares (`optbench`,
 * `optbench/train`, ...) is imported by the package's name from the build in dist/ (as `npm run build`,
 * which setup runs, leaves it), in a project of its own, at run time and by TypeScript through the
 * declared types. Each has the names a user reaches for, none has the library's internals, and the
 * root stays small.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './support/cli.js';

const run = promisify(execFile);

/** Names each entry point must have: what a pipeline author, a user's model or optimizer, a report or a test of one's own uses. */
const KEY_NAMES: Readonly<Record<string, readonly string[]>> = {
  optbench: ['loadFashion$', 'RunSpec', 'runId', 'planGrid', 'trainGrid', 'evaluate', 'runFit', 'createRuntime', 'localTrainer', 'borrow', 'persist', 'openStore', 'storeTrainer', 'recordRuns', 'showProgress', 'reachTarget', 'renderD3', 'writeReport', 'readRunDir', 'useBackend', 'OptbenchFailure', 'toOptbenchError', 'invalidConfig', 'raise'],
  'optbench/data': ['loadFashion$', 'loadDataset', 'LoadConfigCodec', 'decodeLoadConfig', 'checkData', 'locateData', 'parseIdx', 'seededBatches', 'batches', 'permutation', 'deriveSeed', 'FASHION_CLASSES'],
  'optbench/models': ['BUILT_IN_MODELS', 'modelRegistry', 'fcnn', 'vae1', 'dense', 'conv2d', 'seededDropout', 'dropoutScope', 'trainableVariables', 'countParameters', 'disposeModel'],
  'optbench/optimizers': ['createOptimizer', 'resolveOptimizer', 'optimizerRegistry', 'BUILT_IN_OPTIMIZERS', 'RuleOptimizer', 'AdamOptimizer', 'ScheduleFreeAdamwOptimizer', 'atEvaluationPoint', 'PRESETS', 'listOptimizers', 'parseOptimizerList'],
  'optbench/train': ['RunSpec', 'RunEvent', 'EpochEnded', 'RunRecord', 'GridRecord', 'runFit', 'trainGrid', 'planGrid', 'evaluate', 'createRuntime', 'localTrainer', 'checkSpecAgainst', 'borrow', 'foldRunRecord', 'recordRuns', 'showProgress', 'classifierForward', 'immediateScheduler'],
  'optbench/store': ['openStore', 'storePath', 'persist', 'storeTrainer', 'fileCheckpointer', 'rebuildStore', 'checkProtocol', 'SCHEMA_VERSION'],
  'optbench/report': ['readRunDir', 'buildReport', 'renderD3', 'writeReport', 'reportFigures', 'lineChart', 'stripChart', 'confusionChart', 'chartFrame', 'colorFor', 'toMarkdown', 'toCsv', 'recordArtifacts'],
  'optbench/stats': ['describe', 'pairedTTest', 'wilcoxonSignedRank', 'holm', 'compareToBest', 'fisherExact', 'permutationTest'],
  'optbench/sweep': ['parseSearchSpace', 'createAsha', 'ashaNext', 'searchTrials', 'sweep', 'SweepRecord', 'readSweepRecord', 'recordSweep', 'logSearches', 'storeHistory'],
  'optbench/queue': ['connectQueue', 'queueTrainer', 'submitRuns', 'startWorker', 'queueStatus', 'cleanQueue', 'parseQueueUrl', 'simulate'],
  'optbench/backend': ['useBackend', 'availableBackends', 'BACKEND_NAMES', 'PRECISIONS', 'withPrecision', 'bf16Support'],
  'optbench/testing': ['spec', 'started', 'epochEnded', 'ended', 'failed', 'fakeData', 'scriptedTrainer', 'newScheduler', 'pacedScheduler', 'failureAsValue'],
  'optbench/serve': ['serve', 'readDir', 'watchDir', 'DEFAULT_PORT'],
  'optbench/pipelines': ['gridPipeline', 'runSweep', 'STUDY_TASKS', 'quickTask'],
};

/** The library's internals: none is exported from any entry point. */
const INTERNALS = [
  'lend',
  'revoke',
  'isCopyOfLent',
  'deliverWithLoan',
  'RunStop',
  'encodeGrayPng',
  'decodePng',
  'pngSize',
  'svgToPng',
  'escapeHtml',
  'printable',
  'fsCause',
  'nearest',
  'reportErrors',
  'decodeWith',
  'canonicalJson',
  'writeFileAtomic',
  'RunRecordFile',
  'writeCheckpoint',
  'readCheckpoint',
  'outDirState',
  'errorJson',
  'decodeJob',
  'jobFor',
  'mixSeed',
  'installFastCpuKernels',
  'newtonSchulz',
];

/** The entry points, as package.json declares them. */
const entries = (): Record<string, { readonly types: string; readonly import: string }> => {
  const exports = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports;
  return Object.fromEntries(
    Object.entries(exports)
      .filter(([, v]) => typeof v === 'object')
      .map(([k, v]) => [k === '.' ? 'optbench' : `optbench/${k.slice(2)}`, v as { types: string; import: string }]),
  );
};

/** Every .ts under `dir`. */
const sources = (dir: string): string[] =>
  readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [join(dir, d.name)] : [],
  );

/** What the build makes of source `f`: the live page's browser modules are bundled into one script (lib/serve/page-script.ts). */
const builtFile = (f: string): string => (/^lib\/serve\/page\/(?!messages\.ts$)/.test(f) ? join('lib', 'serve', 'page', 'app.js') : f.replace(/\.ts$/, '.js'));

describe('the package entry points, imported by name from the build', function () {
  this.timeout(120_000);
  let project = '';
  let names: Record<string, string[]> = {};

  before(async function () {
    // dist/ must be the build of these sources: a stale one would test yesterday's package.
    const stale = [...sources('lib'), ...sources('pipelines')].filter((f) => {
      try {
        return statSync(join(ROOT, 'dist', builtFile(f))).mtimeMs < statSync(join(ROOT, f)).mtimeMs;
      } catch {
        return true;
      }
    });
    assert.deepEqual(stale.slice(0, 5), [], 'dist/ is missing or older than these sources: run `npm run build` first');
    // A project of the user's own, with optbench installed (as a link to this checkout).
    project = mkdtempSync(join(tmpdir(), 'optbench-user-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(ROOT, join(project, 'node_modules', 'optbench'), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', type: 'module', private: true }));
    const program = [
      `const names = {};`,
      ...Object.keys(entries()).map((e) => `names[${JSON.stringify(e)}] = Object.keys(await import(${JSON.stringify(e)})).sort();`),
      `let deep = 'imported';`,
      `try { await import('optbench/dist/lib/train/loan.js'); } catch (e) { deep = e.code; }`,
      `console.log(JSON.stringify({ names, deep }));`,
    ].join('\n');
    writeFileSync(join(project, 'names.mjs'), program);
    const { stdout } = await run(process.execPath, ['names.mjs'], { cwd: project, maxBuffer: 16 << 20 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { names: Record<string, string[]>; deep: string };
    names = out.names;
    assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', "a module that is not an entry point cannot be imported (optbench/dist/...)");
  });
  after(() => {
    if (project !== '') rmSync(project, { recursive: true, force: true });
  });

  it('declares an entry point for every layer with a public module, each built to the file it names', () => {
    assert.deepEqual(Object.keys(entries()).sort(), Object.keys(KEY_NAMES).sort());
    for (const [name, e] of Object.entries(entries())) {
      assert.ok(statSync(join(ROOT, e.import)).isFile(), `${name}: ${e.import}`);
      assert.ok(statSync(join(ROOT, e.types)).isFile(), `${name}: ${e.types}`);
    }
  });

  for (const [entry, wanted] of Object.entries(KEY_NAMES))
    it(`${entry} has ${wanted.slice(0, 3).join(', ')}, ... and no internal`, () => {
      const got = names[entry];
      assert.ok(got !== undefined && got.length > 0, `${entry} did not import`);
      assert.deepEqual(wanted.filter((n) => !got.includes(n)), [], `${entry} lacks these`);
      assert.deepEqual(INTERNALS.filter((n) => got.includes(n)), [], `${entry} exports internals`);
    });

  it("the root is small: a pipeline author's names, the rest of each layer in its own entry point", () => {
    const root = names['optbench']!;
    assert.ok(root.length <= 80, `optbench exports ${root.length} values`);
    // Only the errors (values of one tagged union, and how they travel on an Observable) are the root's own.
    const elsewhere = new Set(Object.entries(names).flatMap(([e, ns]) => (e === 'optbench' ? [] : ns)));
    const errors = ['OptbenchFailure', 'isOptbenchError', 'toOptbenchError', 'raise', 'fromEither'];
    const constructors = ['datasetMissing', 'checksumMismatch', 'corruptIdx', 'invalidConfig', 'unknownName', 'backendUnavailable', 'diverged', 'storeError', 'ioError', 'interrupted', 'internalError', 'queueError', 'workerLost'];
    assert.deepEqual(root.filter((n) => !elsewhere.has(n)).sort(), [...errors, ...constructors].sort());
  });

  it('TypeScript resolves each entry point through its declared types, with the names a user imports', async () => {
    const lines = Object.entries(KEY_NAMES).map(([entry, wanted], i) => `import { ${wanted.map((n) => `${n} as n${i}_${n.replace(/\$/g, '_')}`).join(', ')} } from '${entry}';\nvoid [${wanted.map((n) => `n${i}_${n.replace(/\$/g, '_')}`).join(', ')}];`);
    const types = [
      `import type { RunEvent, RunSpec, Runtime, OptbenchError, Artifact, LoadConfig, GridPlan } from 'optbench';`,
      `import type { ModelDef } from 'optbench/models';`,
      `import type { OptimizerDef, StepScalars, SlotUpdate } from 'optbench/optimizers';`,
      `import type { Batcher, Dataset } from 'optbench/data';`,
      `import type { RunTrainer, RunContext, FitOptions, EpochRecord } from 'optbench/train';`,
      `import type { Figure, Report } from 'optbench/report';`,
      `import type { Store } from 'optbench/store';`,
      `export type Used = [RunEvent, RunSpec, Runtime, OptbenchError, Artifact, LoadConfig, GridPlan, ModelDef, OptimizerDef, StepScalars, SlotUpdate, Batcher, Dataset, RunTrainer, RunContext, FitOptions, EpochRecord, Figure, Report, Store];`,
    ];
    writeFileSync(join(project, 'user.ts'), [...lines, ...types].join('\n'));
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules', '@types'), 'user.ts'];
    const r = await run(process.execPath, [tsc, ...args], { cwd: project }).catch((e: { stdout?: string; stderr?: string }) => e);
    assert.equal(`${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), '', 'TypeScript found errors in a user\'s imports');
  });
});

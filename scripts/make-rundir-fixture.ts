/**
 * Writes fixtures/rundir-sample/{single,seeds,partial}: small, synthetic-but-plausible run directories
 * for the report's tests (nothing is trained). Deterministic: a seeded PRNG, fixed timestamps.
 *   npx tsx scripts/make-rundir-fixture.ts
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runId, type RunSpec } from '../lib/config/spec.js';
import type { VaeGrids } from '../lib/train/events.js';
import type { EpochRecord, GridRecord, RunRecord, RunStatus } from '../lib/train/record.js';
import { FASHION_CLASSES } from '../lib/data/types.js';
import { STUDY_OPTIMIZERS, studyValue } from '../lib/report/study.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rundir-sample');
const EPOCHS = 3;
const TEST_SIZE = 10_000;
const CREATED = '2026-01-01T00:00:00.000Z';

const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
type Rng = () => number;
const gauss = (r: Rng) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

const specOf = (model: string, optimizer: string, seed: number): RunSpec =>
  ({
    dataset: 'fashion-mnist',
    model,
    optimizer: { name: optimizer, preset: 'tfkeras2', overrides: {} },
    seed,
    epochs: EPOCHS,
    batchSize: 200,
    backend: 'native',
  }) as RunSpec;

/** Classifier epochs approaching a fraction of the study's 50-epoch accuracy. */
const classifierEpochs = (r: Rng, model: string, opt: string, n: number): EpochRecord[] => {
  const target = (studyValue(model, opt) ?? 85) / 100 - 0.02;
  const msPerEpoch = 18_000 + 4_000 * r();
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1;
    const testAcc = Math.min(0.99, target - 0.12 * Math.exp(-e) + 0.004 * gauss(r));
    const trainAcc = Math.min(0.99, testAcc - 0.01 + 0.005 * gauss(r));
    return {
      epoch: e,
      train: { loss: -Math.log(trainAcc) * 2.2, accuracy: trainAcc },
      test: { loss: -Math.log(testAcc) * 2.4, accuracy: testAcc },
      trainMs: Math.round(msPerEpoch * (1 + 0.05 * gauss(r))),
      evalMs: Math.round(900 + 100 * r()),
    };
  });
};

const vaeEpochs = (r: Rng, model: string, opt: string, n: number): EpochRecord[] => {
  const target = (studyValue(model, opt) ?? 30) + 3;
  const msPerEpoch = 30_000 + 5_000 * r();
  return Array.from({ length: n }, (_, i) => {
    const e = i + 1;
    const test = target + 25 * Math.exp(-e) + 0.3 * gauss(r);
    return {
      epoch: e,
      train: { loss: test + 1 + 0.3 * gauss(r), accuracy: null },
      test: { loss: test, accuracy: null },
      trainMs: Math.round(msPerEpoch * (1 + 0.05 * gauss(r))),
      evalMs: Math.round(1500 + 200 * r()),
    };
  });
};

/** Rows predicted, columns true; each column sums to the class's 1,000 test images. */
const confusion = (r: Rng, accuracy: number): number[][] => {
  const k = 10;
  const perClass = TEST_SIZE / k;
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let j = 0; j < k; j++) {
    const hard = j === 6 ? 0.25 : j === 0 || j === 2 || j === 4 ? 0.1 : 0; // shirts, tops, pullovers, coats
    const correct = Math.round(perClass * Math.max(0.3, Math.min(0.99, accuracy - hard + 0.03 * gauss(r))));
    m[j]![j] = correct;
    for (let left = perClass - correct; left > 0; left--) {
      let i = Math.floor(r() * (k - 1));
      if (i >= j) i++;
      m[i]![j]!++;
    }
  }
  return m;
};

/** A 28x28 garment-like blob: an ellipse of given half-axes and brightness. */
const blob = (rx: number, ry: number, bright: number): Uint8Array => {
  const px = new Uint8Array(28 * 28);
  for (let y = 0; y < 28; y++)
    for (let x = 0; x < 28; x++) {
      const d = ((x - 13.5) / rx) ** 2 + ((y - 13.5) / ry) ** 2;
      px[y * 28 + x] = d <= 1 ? Math.min(255, Math.round(bright * (1 - 0.5 * d))) : 0;
    }
  return px;
};

const b64 = (images: Uint8Array[]): string => Buffer.concat(images.map((i) => Buffer.from(i))).toString('base64');

const vaeGrids = (r: Rng, latent: number): VaeGrids => {
  const steps = Array.from({ length: 11 }, (_, i) => -3 + 0.6 * i);
  return {
    rows: 28,
    cols: 28,
    steps,
    traversal: Array.from({ length: latent }, (_, d) =>
      b64(steps.map((s) => blob(d % 2 === 0 ? 6 + 1.5 * s : 8, d % 2 === 1 ? 9 + 1.4 * s : 11, 140 + 30 * (d % 4) + 10 * s))),
    ),
    samples: b64(Array.from({ length: 11 }, () => blob(5 + 6 * r(), 7 + 6 * r(), 120 + 130 * r()))),
  };
};

interface RunPlan {
  readonly model: string;
  readonly optimizer: string;
  readonly seed: number;
  readonly status: RunStatus;
  readonly epochs: number;
}

const record = (p: RunPlan): RunRecord => {
  const r = mulberry32(1 + p.seed * 1009 + p.model.length * 31 + STUDY_OPTIMIZERS.indexOf(p.optimizer as never) * 7);
  const spec = specOf(p.model, p.optimizer, p.seed);
  const vae = p.model.startsWith('vae');
  const epochs = vae ? vaeEpochs(r, p.model, p.optimizer, p.epochs) : classifierEpochs(r, p.model, p.optimizer, p.epochs);
  const last = epochs[epochs.length - 1];
  const done = p.status === 'done' && last !== undefined;
  return {
    runId: runId(spec),
    spec,
    status: p.status,
    backend: 'native',
    parameters: vae ? 143_675 : 1_069_670,
    startedAt: CREATED,
    updatedAt: `2026-01-01T0${Math.min(9, p.epochs)}:00:00.000Z`,
    epochs,
    final: done ? { testLoss: last.test.loss, testAccuracy: last.test.accuracy } : null,
    confusion: done && !vae ? confusion(r, last.test.accuracy ?? 0.8) : null,
    vae: done && vae ? vaeGrids(r, 5) : null,
    error: null,
  };
};

const fileName = (rec: RunRecord): string =>
  `${rec.spec.model}-${rec.spec.optimizer.name}-s${rec.spec.seed}-${rec.runId}.json`;

const writeDir = (name: string, title: string, plans: readonly RunPlan[], extraSpecs: readonly RunSpec[] = []): string => {
  const dir = join(ROOT, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'runs'), { recursive: true });
  const grid: GridRecord = {
    task: name,
    title,
    createdAt: CREATED,
    classNames: FASHION_CLASSES,
    specs: [...plans.map((p) => specOf(p.model, p.optimizer, p.seed)), ...extraSpecs],
  };
  writeFileSync(join(dir, 'grid.json'), `${JSON.stringify(grid, null, 1)}\n`);
  for (const p of plans) {
    const rec = record(p);
    writeFileSync(join(dir, 'runs', fileName(rec)), JSON.stringify(rec));
  }
  return dir;
};

const all = (model: string, seeds: readonly number[]): RunPlan[] =>
  seeds.flatMap((seed) => STUDY_OPTIMIZERS.map((optimizer) => ({ model, optimizer, seed, status: 'done' as const, epochs: EPOCHS })));

writeDir('single', 'Sample study: FCNN and VAE1, 3 epochs', [...all('fcnn', [0]), ...all('vae1', [0])]);
writeDir('seeds', 'Sample study: FCNN over 3 seeds', all('fcnn', [0, 1, 2]));

// Still training: three runs done, one mid-run, one just started, two planned but not started; and a
// record caught half-written.
const partialPlans: RunPlan[] = [
  ...all('fcnn', [0]).slice(0, 3),
  { model: 'fcnn', optimizer: 'adadelta', seed: 0, status: 'running', epochs: 1 },
  { model: 'fcnn', optimizer: 'adam', seed: 0, status: 'running', epochs: 0 },
];
const partialDir = writeDir('partial', 'Sample study: FCNN still training', partialPlans, [
  specOf('fcnn', 'adamax', 0),
  specOf('fcnn', 'nadam', 0),
]);
const torn = JSON.stringify(record({ model: 'fcnn', optimizer: 'adamax', seed: 0, status: 'running', epochs: 1 }));
writeFileSync(join(partialDir, 'runs', `fcnn-adamax-s0-${runId(specOf('fcnn', 'adamax', 0))}.json`), torn.slice(0, Math.floor(torn.length / 2)));
console.log(`wrote ${ROOT}/{single,seeds,partial}`);

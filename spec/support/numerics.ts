/**
 * The specs whose numbers fixtures/numerics/fit-cpu.json pins (see scripts/record-fit-numerics.ts), and
 * the plain record of a run's events that the fixture holds.
 */
import type { RunSpec } from '../../lib/config/spec.js';
import type { RunEvent } from '../../lib/train/events.js';

const base = { dataset: 'fashion-mini', backend: 'cpu' } as const;
const opt = (name: string, overrides: Record<string, number> = {}) => ({ name, preset: 'tfkeras2', overrides });

export const NUMERICS_SPECS: readonly RunSpec[] = [
  // Dense layers only; a subset and a test subset.
  { ...base, model: 'fcnn', optimizer: opt('adam'), seed: 0, epochs: 2, batchSize: 50, subset: 200, testSubset: 100 },
  // Seeded dropout masks and batch normalisation.
  { ...base, model: 'mcnn', optimizer: opt('nadam'), seed: 1, epochs: 2, batchSize: 8, subset: 24, testSubset: 16 },
  // The VAE: seeded sampling in training and in evaluation, decoded grids.
  { ...base, model: 'vae1', optimizer: opt('rmsprop'), seed: 0, epochs: 2, batchSize: 25, subset: 50, testSubset: 50 },
  // A held-out split (what sweeps validate on), then a subset of the rest, and a remainder batch.
  { ...base, model: 'fcnn', optimizer: opt('sgd', { lr: 0.05 }), seed: 2, epochs: 2, batchSize: 30, subset: 200, holdout: 100 },
  // Every training image (500) with a remainder batch, every test image.
  { ...base, model: 'fcnn', optimizer: opt('adamax'), seed: 3, epochs: 1, batchSize: 64 },
];

export interface NumericsRun {
  readonly label: string;
  readonly spec: RunSpec;
  /** The running mean loss after every step, per epoch. */
  readonly steps: readonly (readonly number[])[];
  readonly epochs: ReadonlyArray<{ epoch: number; train: unknown; test: unknown }>;
  readonly final: unknown;
  readonly confusion: unknown;
  /** SHA-256 of the VAE's decoded grids (JSON), null for a classifier. */
  readonly vae: string | null;
  readonly failed: string | null;
}

export const numericsRecord = (spec: RunSpec, events: readonly RunEvent[], sha256: (s: string) => string): NumericsRun => {
  const steps: number[][] = [];
  let failed: string | null = null;
  const epochs: Array<{ epoch: number; train: unknown; test: unknown }> = [];
  let final: unknown = null;
  let confusion: unknown = null;
  let vae: string | null = null;
  for (const e of events) {
    if (e.type === 'BatchEnded') (steps[e.epoch - 1] ??= []).push(e.loss);
    if (e.type === 'EpochEnded') epochs.push({ epoch: e.epoch, train: e.train, test: e.test });
    if (e.type === 'RunEnded') {
      final = e.final;
      confusion = e.confusion;
      vae = e.vae === null ? null : sha256(JSON.stringify(e.vae));
    }
    if (e.type === 'RunFailed') failed = e.error.message;
  }
  return { label: `${spec.model}/${spec.optimizer.name}/s${spec.seed}`, spec, steps, epochs, final, confusion, vae, failed };
};

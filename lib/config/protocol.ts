import type { RunSpec } from './spec.js';

/**
 * A run's protocol: everything in its spec but the model, the optimizer's name and overrides, and the
 * seed. Runs of one protocol are comparable (same data, same budget, same defaults, same kernels), so a
 * run directory holds one protocol, and a report ranks only runs of one protocol against each other.
 */
export interface Protocol {
  /** The data set's name, with the digest of its contents where the name does not pin them (`name@digest`). */
  readonly dataset: string;
  readonly epochs: number;
  readonly batchSize: number;
  /** Training images (null: all of them). */
  readonly subset: number | null;
  /** Test images (null: all of them). */
  readonly testSubset: number | null;
  readonly preset: string;
  readonly backend: string;
  /** Precision of convolutions and products (fp32 when the spec does not say). */
  readonly precision: string;
  /** Training images held out to judge a target on (null: none; a grid with a target holds some out). */
  readonly holdout: number | null;
}

export const protocolOf = (s: RunSpec): Protocol => ({
  dataset: s.data === undefined ? s.dataset : `${s.dataset}@${s.data}`,
  epochs: s.epochs,
  batchSize: s.batchSize,
  subset: s.subset ?? null,
  testSubset: s.testSubset ?? null,
  preset: s.optimizer.preset,
  backend: s.backend,
  precision: s.precision ?? 'fp32',
  holdout: s.holdout ?? null,
});

const FIELDS: ReadonlyArray<readonly [keyof Protocol, string]> = [
  ['dataset', 'data set'],
  ['epochs', 'epochs'],
  ['batchSize', 'batch size'],
  ['subset', 'training images'],
  ['testSubset', 'test images'],
  ['preset', 'preset'],
  ['backend', 'backend'],
  ['precision', 'precision'],
  ['holdout', 'held-out images'],
];

const show = (v: string | number | null, none = 'all'): string => (v === null ? none : typeof v === 'number' ? v.toLocaleString('en-US') : v);

/** A key equal for equal protocols. */
export const protocolKey = (p: Protocol): string => FIELDS.map(([k]) => String(p[k])).join('|');

/** How `a` differs from `b`, e.g. `epochs 1 (not 3), training images 200 (not 20,000)`; '' when equal. */
export const protocolDifference = (a: Protocol, b: Protocol): string =>
  FIELDS.filter(([k]) => a[k] !== b[k])
    .map(([k, name]) => {
      const none = k === 'holdout' ? 'none' : 'all';
      return `${name} ${show(a[k], none)} (not ${show(b[k], none)})`;
    })
    .join(', ');

/** One line: `fashion-mnist, 3 epochs, batch 200, 10,000 training images, all test images, tfkeras2, native`. */
export const describeProtocol = (p: Protocol): string =>
  `${p.dataset}, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}, batch ${show(p.batchSize)}, ${show(p.subset)} training images, ` +
  `${show(p.testSubset)} test images, preset ${p.preset}, backend ${p.backend}${p.precision === 'fp32' ? '' : `, precision ${p.precision}`}` +
  `${p.holdout === null ? '' : `, ${show(p.holdout)} training images held out`}`;

/**
 * The images a grid's own runs hold out: those of its planned specs (grid.json's), undefined when it holds
 * none out (the study's grids, a sweep's retraining) or is not known.
 */
export const gridHoldout = (gridSpecs: readonly RunSpec[]): number | undefined => gridSpecs[0]?.holdout;

/**
 * Whether a run is one of its directory's results, given the images its grid holds out (gridHoldout): a
 * run that holds out other images than its grid (a sweep's trial, judged on them and never tested) is not.
 * A grid with a target holds out images of its own; its runs are tested on the test set all the same.
 */
export const countsAsResult =
  (holdout: number | undefined) =>
  (s: RunSpec): boolean =>
    s.holdout === holdout;

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
];

const show = (v: string | number | null): string => (v === null ? 'all' : typeof v === 'number' ? v.toLocaleString('en-US') : v);

/** A key equal for equal protocols. */
export const protocolKey = (p: Protocol): string => FIELDS.map(([k]) => String(p[k])).join('|');

/** How `a` differs from `b`, e.g. `epochs 1 (not 3), training images 200 (not 20,000)`; '' when equal. */
export const protocolDifference = (a: Protocol, b: Protocol): string =>
  FIELDS.filter(([k]) => a[k] !== b[k])
    .map(([k, name]) => `${name} ${show(a[k])} (not ${show(b[k])})`)
    .join(', ');

/** One line: `fashion-mnist, 3 epochs, batch 200, 10,000 training images, all test images, tfkeras2, native`. */
export const describeProtocol = (p: Protocol): string =>
  `${p.dataset}, ${p.epochs} epoch${p.epochs === 1 ? '' : 's'}, batch ${show(p.batchSize)}, ${show(p.subset)} training images, ` +
  `${show(p.testSubset)} test images, preset ${p.preset}, backend ${p.backend}${p.precision === 'fp32' ? '' : `, precision ${p.precision}`}`;

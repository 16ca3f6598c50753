/**
 * Regenerates fixtures/fashion-mini/ from the installed Fashion-MNIST (Debian's dataset-fashion-mnist,
 * or --from DIR): the first 50 training and 15 test images of every class, in their original order,
 * as gzip'd IDX files with the usual names, an MD5SUMS file and the source indices.
 *
 *   npx tsx scripts/make-fixtures.ts [--from DIR] [--out DIR]
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { encodeIdx, gzipIdx, parseIdx, IDX_FILES } from '../lib/data/index.js';
import { md5Hex } from '../lib/data/download.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const from = arg('--from', '/usr/share/datasets/fashion-mnist');
const out = arg('--out', join(import.meta.dirname, '..', 'fixtures', 'fashion-mini'));
const PER_CLASS = { train: 50, test: 15 } as const;

const read = (base: string) => {
  const file = join(from, `${base}.gz`);
  const r = parseIdx(new Uint8Array(readFileSync(file)), file);
  if (E.isLeft(r)) throw new Error(r.left.message);
  return r.right;
};

/** Indices of the first `k` examples of each class, in file order. */
const pick = (labels: Uint8Array, k: number): number[] => {
  const taken = new Array<number>(10).fill(0);
  const chosen: number[] = [];
  labels.forEach((c, i) => {
    if (taken[c]! < k) {
      taken[c]!++;
      chosen.push(i);
    }
  });
  return chosen;
};

mkdirSync(out, { recursive: true });
const sums: string[] = [];
const indices: Record<string, number[]> = {};
for (const split of ['train', 'test'] as const) {
  const [imgBase, lblBase] =
    split === 'train' ? [IDX_FILES.trainImages, IDX_FILES.trainLabels] : [IDX_FILES.testImages, IDX_FILES.testLabels];
  const images = read(imgBase);
  const labels = read(lblBase);
  const [, rows, cols] = images.dims as [number, number, number];
  const chosen = pick(labels.data, PER_CLASS[split]);
  const px = rows * cols;
  const pixels = new Uint8Array(chosen.length * px);
  chosen.forEach((j, i) => pixels.set(images.data.subarray(j * px, (j + 1) * px), i * px));
  const lbls = Uint8Array.from(chosen, (j) => labels.data[j]!);
  for (const [base, bytes] of [
    [imgBase, gzipIdx(encodeIdx([chosen.length, rows, cols], pixels))],
    [lblBase, gzipIdx(encodeIdx([chosen.length], lbls))],
  ] as const) {
    writeFileSync(join(out, `${base}.gz`), bytes);
    sums.push(`${md5Hex(bytes)}  ${base}.gz`);
  }
  indices[split] = chosen;
}
writeFileSync(join(out, 'MD5SUMS'), sums.sort((a, b) => a.slice(34).localeCompare(b.slice(34))).join('\n') + '\n');
writeFileSync(join(out, 'indices.json'), JSON.stringify({ source: from, ...indices }) + '\n');
console.log(`wrote ${out}`);

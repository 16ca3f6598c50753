/**
 * Records what training computes on fixtures/fashion-mini with the `cpu` backend: every step's running
 * loss, every epoch's train and test metrics, the final evaluation, the confusion matrix and a hash of the
 * VAE's decoded grids, for a few specs that cover the protocol's paths (dropout and batch normalisation, a
 * VAE's seeded sampling, a subset, a held-out split, a remainder batch). spec/numerics.spec.ts trains the
 * same specs and compares bit for bit, so that a refactor of the training loop cannot change a number.
 *
 *   npx tsx scripts/record-fit-numerics.ts [--out fixtures/numerics/fit-cpu.json]
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { lastValueFrom, toArray } from 'rxjs';
import { NUMERICS_SPECS, numericsRecord } from '../spec/support/numerics.js';
import { useBackend } from '../lib/backend/index.js';
import { loadDataset } from '../lib/data/load.js';
import { runFit } from '../lib/train/fit.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
};
const out = arg('--out', join(import.meta.dirname, '..', 'fixtures', 'numerics', 'fit-cpu.json'));

const backend = await useBackend('cpu');
if (E.isLeft(backend)) throw new Error(backend.left.message);
const data = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
if (E.isLeft(data)) throw new Error(data.left.message);
const runs = [];
for (const spec of NUMERICS_SPECS) {
  const events = await lastValueFrom(runFit(spec, data.right, { progressEveryMs: 0 }).pipe(toArray()));
  runs.push(numericsRecord(spec, events, (s) => createHash('sha256').update(s).digest('hex')));
  process.stderr.write(`${spec.model}/${spec.optimizer.name}/s${spec.seed}: ${events.length} events\n`);
}
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ backend: 'cpu', runs }, null, 1)}\n`);

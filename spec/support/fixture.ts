import { strict as assert } from 'node:assert';
import * as E from 'fp-ts/lib/Either.js';
import { useBackend } from '../../lib/backend/index.js';
import { loadDataset } from '../../lib/data/load.js';
import type { Dataset } from '../../lib/data/types.js';

/** fixtures/fashion-mini on the JavaScript cpu backend: real images, small enough for seconds per run. */
export const fixtureOnCpu = async (): Promise<Dataset> => {
  assert.ok(E.isRight(await useBackend('cpu')));
  const loaded = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
  if (E.isLeft(loaded)) assert.fail(loaded.left.message);
  return loaded.right;
};

/** fixtures/fashion-mini, whatever backend is active. */
export const loadFixture = async (): Promise<Dataset> => {
  const loaded = await loadDataset({ dir: 'fixtures/fashion-mini', dataset: 'fashion-mini' });
  if (E.isLeft(loaded)) assert.fail(loaded.left.message);
  return loaded.right;
};

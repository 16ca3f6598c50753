import * as t from 'io-ts';
import { decodeWith } from '../config/spec.js';

/**
 * The data-loading config as io-ts sees it (LoadConfig in load.ts is its TypeScript face): `loadFashion$`
 * decodes what it is given, so that a field of the wrong type is an InvalidConfig naming it.
 */
export const LoadConfigCodec = t.partial({
  dir: t.string,
  dataset: t.string,
  download: t.boolean,
  cacheDir: t.string,
  baseUrl: t.string,
  env: t.record(t.string, t.union([t.string, t.undefined])),
  systemRoot: t.string,
  downloadChecksums: t.record(t.string, t.readonlyArray(t.string)),
});

export const decodeLoadConfig = decodeWith(LoadConfigCodec, 'data config');

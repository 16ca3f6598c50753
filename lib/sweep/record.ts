import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import * as t from 'io-ts';
import { NonNegativeInt } from '../config/numbers.js';
import { decodeFileValue, readJsonFile } from '../config/json-file.js';
import { canonicalJson } from '../config/spec.js';
import { ioError, type OptbenchError } from '../errors.js';
import { writeFileAtomic } from '../train/recorder.js';
import { decodeAshaState, type AshaState } from './asha.js';
import { isSweepEvent, type SweepEvent } from './events.js';
import { SearchResult, type SearchConfig } from './search.js';

/**
 * `<out>/sweep.json`: what a sweep (or a tune) searched, how far it got and what it chose. It is rewritten
 * after every trial (and every ASHA decision), so a killed sweep resumes from it; the trials' own epochs
 * live in the store. A report of the sweep reads this file and the store, and never trains.
 */
export const FinalGroup = t.readonly(
  t.type({
    optimizer: t.string,
    /** `tuned`: the chosen configuration; `default`: the optimizer's stock preset (tune only). */
    role: t.keyof({ tuned: null, default: null }),
    overrides: t.readonly(t.record(t.string, t.number)),
    /** The retraining runs on all training images, one per seed, evaluated on the test set. */
    runIds: t.readonlyArray(t.string),
  }),
  'a final group',
);
export type FinalGroup = t.TypeOf<typeof FinalGroup>;

export const SweepRecord = t.readonly(
  t.type({
    version: t.literal(1),
    kind: t.keyof({ sweep: null, tune: null }),
    title: t.string,
    createdAt: t.string,
    /** Seeds of the final retraining. */
    seeds: NonNegativeInt,
    searches: t.readonlyArray(SearchResult),
    final: t.readonlyArray(FinalGroup),
  }),
  'a sweep record',
);
export type SweepRecord = t.TypeOf<typeof SweepRecord>;

const SWEEP_FILE = 'sweep.json';

const sweepRecordPath = (outDir: string): string => join(outDir, SWEEP_FILE);

export const writeSweepRecord = (outDir: string, r: SweepRecord): void =>
  writeFileAtomic(sweepRecordPath(outDir), `${JSON.stringify(r, null, 2)}\n`);

const REMEDY = 'Move it away or choose another --out.';

/**
 * The record in `outDir`, null when there is none yet. A file of another version is refused as such; one
 * that does not decode names the bad field (`searches[0].trials[3].status`).
 */
export const readSweepRecord = (outDir: string): E.Either<OptbenchError, SweepRecord | null> => {
  const file = sweepRecordPath(outDir);
  if (!existsSync(file)) return E.right(null);
  return pipe(
    readJsonFile(file, t.unknown, { what: 'sweep record', remedy: REMEDY }),
    E.flatMap((u) =>
      t.type({ version: t.literal(1) }).is(u)
        ? decodeFileValue(SweepRecord, file, { what: 'sweep record', remedy: REMEDY })(u)
        : E.left(ioError({ file, message: `${file} is not a sweep record of this optbench version: move it away or choose another --out.` })),
    ),
  );
};

/** The saved ASHA state of the search with exactly this config, to resume from (null: start afresh). */
export const savedAshaState = (record: SweepRecord | null, config: SearchConfig): E.Either<OptbenchError, AshaState | null> => {
  const saved = record?.searches.find((s) => canonicalJson(s.config) === canonicalJson(config));
  if (!saved?.asha) return E.right(null);
  return decodeAshaState(saved.asha);
};

/** The search results a record holds: the finished ones, and the one in progress (last, when there is one). */
interface Progress {
  readonly record: SweepRecord;
  readonly done: readonly SearchResult[];
}

/**
 * The sweep record after one more event (null before SweepStarted): every decision of a search replaces its
 * entry, a finished search is kept, RetrainStarted sets the final groups. `createdAt` is the first
 * invocation's, so a resumed sweep keeps it.
 */
export const foldSweepRecord = (p: Progress | null, e: SweepEvent, createdAt: string): Progress | null => {
  if (!isSweepEvent(e)) return p;
  switch (e.type) {
    case 'SweepStarted':
      return {
        record: { version: 1, kind: e.spec.kind, title: e.spec.title, createdAt, seeds: e.spec.seeds, searches: [], final: [] },
        done: [],
      };
    case 'SearchStarted':
      return p;
    case 'SearchUpdated':
      return p && { ...p, record: { ...p.record, searches: [...p.done, e.result] } };
    case 'SearchEnded': {
      if (!p) return p;
      const done = [...p.done, e.result];
      return { done, record: { ...p.record, searches: done } };
    }
    case 'RetrainStarted':
      return p && { ...p, record: { ...p.record, final: e.groups } };
  }
};

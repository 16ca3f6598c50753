import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { canonicalJson } from '../config/spec.js';
import { ioError, type OptbenchError } from '../errors.js';
import { writeFileAtomic } from '../train/recorder.js';
import { decodeAshaState, type AshaState } from './asha.js';
import { isSweepEvent, type SweepEvent } from './events.js';
import { decodeSearchConfig, type SearchConfig, type SearchResult } from './search.js';

/**
 * `<out>/sweep.json`: what a sweep (or a tune) searched, how far it got and what it chose. It is rewritten
 * after every trial (and every ASHA decision), so a killed sweep resumes from it; the trials' own epochs
 * live in the store. A report of the sweep reads this file and the store, and never trains.
 */
export interface FinalGroup {
  readonly optimizer: string;
  /** `tuned`: the chosen configuration; `default`: the optimizer's stock preset (tune only). */
  readonly role: 'tuned' | 'default';
  readonly overrides: Readonly<Record<string, number>>;
  /** The retraining runs on all training images, one per seed, evaluated on the test set. */
  readonly runIds: readonly string[];
}

export interface SweepRecord {
  readonly version: 1;
  readonly kind: 'sweep' | 'tune';
  readonly title: string;
  readonly createdAt: string;
  /** Seeds of the final retraining. */
  readonly seeds: number;
  readonly searches: readonly SearchResult[];
  readonly final: readonly FinalGroup[];
}

const SWEEP_FILE = 'sweep.json';

const sweepRecordPath = (outDir: string): string => join(outDir, SWEEP_FILE);

export const writeSweepRecord = (outDir: string, r: SweepRecord): void =>
  writeFileAtomic(sweepRecordPath(outDir), `${JSON.stringify(r, null, 2)}\n`);

/** The record in `outDir`, null when there is none yet. */
export const readSweepRecord = (outDir: string): E.Either<OptbenchError, SweepRecord | null> => {
  const file = sweepRecordPath(outDir);
  if (!existsSync(file)) return E.right(null);
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as SweepRecord;
    if (r.version !== 1 || !Array.isArray(r.searches))
      return E.left(ioError({ file, message: `${file} is not a sweep record of this optbench version: move it away or choose another --out.` }));
    for (const s of r.searches) {
      const c = decodeSearchConfig(s.config);
      if (E.isLeft(c)) return E.left(ioError({ file, message: `${file}: ${c.left.message}` }));
    }
    return E.right(r);
  } catch (e) {
    return E.left(ioError({ file, message: `${file} cannot be read (${e instanceof Error ? e.message : String(e)}): move it away or choose another --out.` }));
  }
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

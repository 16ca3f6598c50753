import type { GridEvent, StreamEvent } from '../train/events.js';
import type { FinalGroup } from './record.js';
import type { SearchConfig, SearchResult } from './search.js';
import type { SweepSpec } from './sweep.js';

/**
 * What a sweep (or tune) reports besides its runs' own events, as plain data. A sweep's stream is
 * SweepStarted, then per search SearchStarted, the trials' RunEvents with a SearchUpdated after every
 * scheduling decision and finished job (ASHA's promotions are jobs like any other), SearchEnded, then
 * RetrainStarted and the retraining grid's GridEvents.
 */
export interface SweepStarted {
  readonly type: 'SweepStarted';
  readonly spec: SweepSpec;
}

export interface SearchStarted {
  readonly type: 'SearchStarted';
  readonly config: SearchConfig;
  /** Trials the search will try. */
  readonly trials: number;
  /** Whether it continues a saved ASHA state. */
  readonly resumed: boolean;
}

/** The search so far (what sweep.json saves, so that a killed sweep resumes from it). */
export interface SearchUpdated {
  readonly type: 'SearchUpdated';
  readonly result: SearchResult;
}

export interface SearchEnded {
  readonly type: 'SearchEnded';
  readonly result: SearchResult;
}

/** The chosen configurations about to be retrained on all training images and tested. */
export interface RetrainStarted {
  readonly type: 'RetrainStarted';
  readonly groups: readonly FinalGroup[];
  readonly seeds: number;
}

export type SearchEvent = SearchStarted | SearchUpdated | SearchEnded;
export type SweepEvent = SweepStarted | SearchEvent | RetrainStarted | GridEvent;

const SWEEP_TYPES: ReadonlySet<string> = new Set(['SweepStarted', 'SearchStarted', 'SearchUpdated', 'SearchEnded', 'RetrainStarted']);

export const isSweepEvent = <E extends StreamEvent>(e: E): e is E & (SweepStarted | SearchEvent | RetrainStarted) => SWEEP_TYPES.has(e.type);

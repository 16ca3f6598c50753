import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { runLabel, type RunSpec } from '../config/spec.js';
import type { RunEvent } from './events.js';
import type { GridRecord, RunRecord } from './record.js';

/** Writes through a temporary file and a rename, so a reader never sees half a file. */
export const writeFileAtomic = (path: string, data: string | Uint8Array): void => {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
};

export const runFileName = (spec: RunSpec, runId: string): string =>
  `${runLabel(spec).replace(/[^A-Za-z0-9_.-]+/g, '-')}-${runId}.json`;

export const writeGridRecord = (outDir: string, grid: GridRecord): void => {
  mkdirSync(join(outDir, 'runs'), { recursive: true });
  writeFileAtomic(join(outDir, 'grid.json'), JSON.stringify(grid, null, 2));
};

const readRecord = (path: string): RunRecord | undefined => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as RunRecord;
  } catch {
    return undefined;
  }
};

/**
 * Keeps `<outDir>/runs/<run>.json` up to date with every event (BatchEnded excepted), so that a report can
 * be drawn from a grid that is still training. A run resumed after epoch k keeps its first k epochs.
 */
export const recordRuns =
  (outDir: string): MonoTypeOperatorFunction<RunEvent> =>
  (source) => {
    const records = new Map<string, { path: string; record: RunRecord }>();
    mkdirSync(join(outDir, 'runs'), { recursive: true });
    const save = (id: string, next: RunRecord): void => {
      const entry = records.get(id)!;
      entry.record = next;
      writeFileAtomic(entry.path, JSON.stringify(next));
    };
    return source.pipe(
      tap((e) => {
        const now = new Date().toISOString();
        switch (e.type) {
          case 'RunStarted': {
            const path = join(outDir, 'runs', runFileName(e.spec, e.runId));
            const before = e.fromEpoch > 0 ? readRecord(path) : undefined;
            records.set(e.runId, { path, record: undefined as unknown as RunRecord });
            save(e.runId, {
              runId: e.runId,
              spec: e.spec,
              status: 'running',
              backend: e.backend,
              parameters: e.parameters,
              startedAt: before?.startedAt ?? e.startedAt,
              updatedAt: now,
              epochs: (before?.epochs ?? []).filter((x) => x.epoch <= e.fromEpoch),
              final: null,
              confusion: null,
              vae: null,
              error: null,
            });
            return;
          }
          case 'EpochEnded': {
            const r = records.get(e.runId)?.record;
            if (!r) return;
            const { epoch, train, test, trainMs, evalMs } = e;
            save(e.runId, { ...r, updatedAt: now, epochs: [...r.epochs, { epoch, train, test, trainMs, evalMs }] });
            return;
          }
          case 'RunEnded': {
            const r = records.get(e.runId)?.record;
            if (!r) return;
            save(e.runId, { ...r, status: 'done', updatedAt: now, final: e.final, confusion: e.confusion, vae: e.vae });
            return;
          }
          case 'RunFailed': {
            const r = records.get(e.runId)?.record;
            const path = join(outDir, 'runs', runFileName(e.spec, e.runId));
            if (!r) records.set(e.runId, { path, record: undefined as unknown as RunRecord });
            save(e.runId, {
              ...(r ?? {
                runId: e.runId,
                spec: e.spec,
                backend: '',
                parameters: 0,
                startedAt: now,
                epochs: [],
                final: null,
                confusion: null,
                vae: null,
              }),
              status: e.error._tag === 'Interrupted' ? 'interrupted' : 'failed',
              updatedAt: now,
              error: e.error,
            } as RunRecord);
            return;
          }
          case 'BatchEnded':
            return;
        }
      }),
    );
  };

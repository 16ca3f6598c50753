/**
 * `optbench queue status|clean`: what the queue holds (waiting, active with worker and epoch, done,
 * failed runs, live workers, recent refusals), and removing the runs that are finished.
 */
import type { Job } from 'bullmq';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { runLabel, type RunSpec } from '../config/spec.js';
import type { QueueClient } from './client.js';
import { REFUSALS_KEY, deleteRunRecords, readMeta } from './records.js';

export interface QueueRun {
  readonly runId: string;
  readonly label: string;
  readonly worker: string | null;
  /** Epochs committed / the run's epochs. */
  readonly epochs: number;
  readonly of: number;
  /** Where an active run is now. */
  readonly progress: { readonly epoch: number; readonly step: number; readonly steps: number } | null;
  readonly attempts: number;
  readonly outcome: string | null;
  readonly reason: string | null;
}

export interface QueueStatus {
  readonly counts: Readonly<Record<'waiting' | 'active' | 'completed' | 'failed', number>>;
  readonly waiting: readonly QueueRun[];
  readonly active: readonly QueueRun[];
  readonly failed: readonly QueueRun[];
  readonly done: number;
  readonly workers: readonly string[];
  readonly refusals: readonly Refusal[];
}

/**
 * What a worker recorded when it would not train a run: `failed` when the job itself cannot be trained (it
 * failed, the worker went on), else handed back (the worker's own files or backend; it stopped).
 */
export const Refusal = t.intersection([
  t.type({ runId: t.string, run: t.string, worker: t.string, message: t.string, at: t.string }),
  t.partial({ outcome: t.literal('failed') }),
]);
export type Refusal = t.TypeOf<typeof Refusal>;

const label = (job: Job): string => {
  const spec = (job.data as { spec?: RunSpec } | undefined)?.spec;
  try {
    return spec ? runLabel(spec) : String(job.id);
  } catch {
    return String(job.id);
  }
};

const describe = async (client: QueueClient, job: Job): Promise<QueueRun> => {
  const meta = await readMeta(client.redis, String(job.id));
  const p = job.progress as { epoch?: number; step?: number; steps?: number; worker?: string } | number | undefined;
  const rv = job.returnvalue as { outcome?: string } | null | undefined;
  const spec = (job.data as { spec?: RunSpec } | undefined)?.spec;
  return {
    runId: String(job.id),
    label: label(job),
    worker: meta.worker !== '' ? meta.worker : (job.processedBy ?? null),
    epochs: meta.epochs,
    of: spec?.epochs ?? 0,
    progress: typeof p === 'object' && p !== null && p.epoch !== undefined ? { epoch: p.epoch, step: p.step ?? 0, steps: p.steps ?? 0 } : null,
    attempts: meta.attempt,
    outcome: rv?.outcome ?? null,
    reason: job.failedReason ?? null,
  };
};

export const queueStatus = async (client: QueueClient, limit = 100): Promise<QueueStatus> => {
  const q = client.queue;
  const counts = await q.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed');
  const waitingJobs = await q.getJobs(['prioritized', 'waiting', 'delayed'], 0, limit - 1, true);
  const activeJobs = await q.getJobs(['active'], 0, limit - 1);
  const failedJobs = await q.getJobs(['failed'], 0, limit - 1);
  const workers = (await q.getWorkers()).map((w) => {
    const raw = (w as { rawname?: string; name?: string }).rawname ?? w.name ?? '';
    // BullMQ names worker connections `<prefix>:<base64 queue>:w:<worker name>`.
    const i = raw.indexOf(':w:');
    return i >= 0 ? raw.slice(i + 3) : raw;
  });
  // Entries that do not decode (another version's) are left out of the status, which only shows.
  const refusals = (await client.redis.lrange(REFUSALS_KEY, -10, -1)).flatMap((s) => {
    try {
      return E.match(() => [], (r: Refusal) => [r])(Refusal.decode(JSON.parse(s)));
    } catch {
      return [];
    }
  });
  return {
    counts: {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0),
      active: counts.active ?? 0,
      completed: counts.completed ?? 0,
      failed: counts.failed ?? 0,
    },
    waiting: await Promise.all(waitingJobs.map((j) => describe(client, j))),
    active: await Promise.all(activeJobs.map((j) => describe(client, j))),
    failed: await Promise.all(failedJobs.map((j) => describe(client, j))),
    done: counts.completed ?? 0,
    workers,
    refusals,
  };
};

export const formatStatus = (s: QueueStatus): string => {
  const lines = [
    `waiting ${s.counts.waiting}, active ${s.counts.active}, done ${s.counts.completed}, failed ${s.counts.failed}; workers: ${s.workers.length === 0 ? 'none' : s.workers.join(', ')}`,
  ];
  for (const r of s.active)
    lines.push(
      `  active   ${r.label} (${r.runId}) on ${r.worker ?? '?'}: ${r.progress ? `epoch ${r.progress.epoch}/${r.of}, step ${r.progress.step}/${r.progress.steps}` : `${r.epochs}/${r.of} epochs`}${r.attempts > 1 ? `, attempt ${r.attempts}` : ''}`,
    );
  for (const r of s.waiting) lines.push(`  waiting  ${r.label} (${r.runId})${r.epochs > 0 ? `, ${r.epochs}/${r.of} epochs done` : ''}`);
  for (const r of s.failed) lines.push(`  failed   ${r.label} (${r.runId}): ${r.reason ?? ''}`);
  for (const r of s.refusals)
    lines.push(
      r.outcome === 'failed'
        ? `  failed   ${r.run} by ${r.worker} at ${r.at} (the job cannot be trained; the worker went on): ${r.message}`
        : `  refused  ${r.run} by ${r.worker} at ${r.at} (handed back; the worker stopped): ${r.message}`,
    );
  return `${lines.join('\n')}\n`;
};

/** Removes finished runs (done, failed) and what the queue kept of them; returns how many. */
export const cleanQueue = async (client: QueueClient): Promise<number> => {
  let removed = 0;
  for (const state of ['completed', 'failed'] as const) {
    for (;;) {
      const jobs = await client.queue.getJobs([state], 0, 499);
      if (jobs.length === 0) break;
      for (const j of jobs) {
        await j.remove();
        await deleteRunRecords(client.redis, String(j.id));
        removed++;
      }
    }
  }
  await client.redis.del(REFUSALS_KEY);
  return removed;
};

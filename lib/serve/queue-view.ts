/**
 * With `--queue URL`: what `optbench queue status` knows (lib/queue/status.ts), read again every second,
 * as an Observable; the step each active run is at; and the queue's part of the page.
 */
import * as E from 'fp-ts/lib/Either.js';
import { asyncScheduler, defer, exhaustMap, from, map, race, timer, type Observable, type SchedulerLike } from 'rxjs';
import type { OptbenchError } from '../errors.js';
import { printable } from '../errors.js';
import type { QueueClient } from '../queue/client.js';
import { explainRedisError } from '../queue/connection.js';
import { queueStatus, type QueueRun, type QueueStatus } from '../queue/status.js';
import { esc } from '../report/html.js';
import type { StepProgress } from './run-view.js';

export type QueueRead = E.Either<OptbenchError, QueueStatus>;

/**
 * The queue's status now, then every `everyMs`. While Redis is away its client keeps reconnecting and a read
 * waits for it: after `timeoutMs` the page says so, and no second read is started while one waits, so that
 * an outage of hours queues nothing up.
 */
export const watchQueue = (client: QueueClient, everyMs: number, timeoutMs = 3000, scheduler: SchedulerLike = asyncScheduler): Observable<QueueRead> =>
  defer(() => {
    let inflight: Promise<QueueRead> | null = null;
    const read = (): Promise<QueueRead> =>
      (inflight ??= queueStatus(client).then(
        (s): QueueRead => E.right(s),
        (e: unknown): QueueRead => E.left(explainRedisError(client.url, e)),
      ).finally(() => (inflight = null)));
    const late: QueueRead = E.left(explainRedisError(client.url, new Error('timed out')));
    return timer(0, everyMs, scheduler).pipe(
      exhaustMap(() => race(from(read()), timer(timeoutMs, scheduler).pipe(map(() => late)))),
    );
  });

/** Where each active run of the queue is inside its epoch: the workers report it, the store does not keep it. */
export const queueSteps = (q: QueueRead | null): ReadonlyMap<string, StepProgress> =>
  new Map(q !== null && E.isRight(q) ? q.right.active.flatMap((r) => (r.progress !== null ? [[r.runId, r.progress] as const] : [])) : []);

const runsTable = (title: string, runs: readonly QueueRun[], cells: (r: QueueRun) => readonly string[], head: readonly string[]): string =>
  runs.length === 0
    ? ''
    : `<h4>${esc(title)} (${runs.length})</h4><div class="table-wrap"><table class="queue-${esc(title.toLowerCase())}"><thead><tr>${head
        .map((h) => `<th scope="col">${esc(h)}</th>`)
        .join('')}</tr></thead><tbody>${runs
        .map((r) => `<tr data-run="${esc(r.runId)}">${cells(r).map((c, i) => (i === 0 ? `<th scope="row">${esc(c)}</th>` : `<td>${esc(c)}</td>`)).join('')}</tr>`)
        .join('')}</tbody></table></div>`;

/** The queue's part of the page: counts, workers, active runs with their epoch and step, waiting and failed runs. */
export const queueHtml = (q: QueueRead): string => {
  if (E.isLeft(q)) return `<div class="warnings" role="alert"><p>${esc(printable(q.left.message))}</p><p>Trying again every second.</p></div>`;
  const s = q.right;
  const where = (r: QueueRun) => (r.progress ? `epoch ${r.epochs}/${r.of}, step ${r.progress.step}/${r.progress.steps} of epoch ${r.progress.epoch}` : `epoch ${r.epochs}/${r.of}`);
  return [
    `<p class="counts">waiting ${s.counts.waiting}, active ${s.counts.active}, done ${s.counts.completed}, failed ${s.counts.failed}</p>`,
    `<p class="workers">${s.workers.length === 0 ? 'No live worker.' : `Workers (${s.workers.length}): ${s.workers.map((w) => esc(w)).join(', ')}`}</p>`,
    runsTable('Active', s.active, (r) => [r.label, r.worker ?? '?', where(r), r.attempts > 1 ? String(r.attempts) : ''], ['run', 'worker', 'progress', 'attempt']),
    runsTable('Waiting', s.waiting, (r) => [r.label, `${r.epochs}/${r.of} epochs done`], ['run', 'progress']),
    runsTable('Failed', s.failed, (r) => [r.label, printable(r.reason ?? '')], ['run', 'reason']),
    s.refusals.length === 0
      ? ''
      : `<h4>Refused by workers</h4><ul>${s.refusals.map((r) => `<li>${esc(printable(`${r.run} by ${r.worker} at ${r.at}: ${r.message}`))}</li>`).join('')}</ul>`,
  ]
    .filter((x) => x !== '')
    .join('\n');
};

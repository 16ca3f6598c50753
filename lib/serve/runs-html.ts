/** The live page's table of runs, one row per run, and the line above it: HTML, every value escaped. */
import { describeProtocol, protocolKey, protocolOf } from '../config/protocol.js';
import { printable, type OptbenchError } from '../errors.js';
import { esc } from '../report/html.js';
import type { DirSnapshot } from './dir-read.js';
import { progressText, type RunState, type RunView } from './run-view.js';

const pct = (a: number | null | undefined): string => (a === null || a === undefined || !Number.isFinite(a) ? '' : `${(100 * a).toFixed(2)} %`);
const loss = (l: number | null | undefined): string => (l === null || l === undefined ? '' : Number.isFinite(l) ? l.toFixed(4) : 'not finite');

const finalText = (v: RunView): string => {
  if (v.final === null) return '';
  return v.kind === 'vae' || v.final.testAccuracy === null ? loss(v.final.testLoss) : pct(v.final.testAccuracy);
};

const studyText = (v: RunView): string => (v.study === null ? '' : v.kind === 'vae' ? v.study.toFixed(2) : `${v.study.toFixed(2)} %`);

/** The columns of the table, in order (the row's cells follow them). */
export const RUN_COLUMNS = [
  'draw',
  'run',
  'model',
  'optimizer',
  'seed',
  'precision',
  'status',
  'progress',
  'train loss',
  'train acc',
  'test loss',
  'test acc',
  'final',
  'study',
  'note',
] as const;

/** Columns of words, not numbers: aligned left (by the stylesheet, so that a row carries no class for it). */
const TEXT_COLUMNS: ReadonlySet<string> = new Set(['run', 'model', 'optimizer', 'precision', 'status', 'progress', 'note']);

/** The stylesheet's selector of those columns' cells, by position. */
export const TEXT_CELLS = `table.runs :is(th,td):is(${RUN_COLUMNS.flatMap((c, i) => (TEXT_COLUMNS.has(c) ? [`:nth-child(${i + 1})`] : [])).join(',')})`;

export const runsHead = (): string =>
  `<tr>${RUN_COLUMNS.map((c) => `<th scope="col">${c === 'draw' ? '<span class="visually-hidden">draw</span>' : esc(c)}</th>`).join('')}</tr>`;

/**
 * One run's row. Its checkbox chooses whether the run is drawn in the figures below (the page's script
 * keeps that choice when the row is replaced); every value is escaped text. A directory may have thousands
 * of rows, so a row carries no more markup than it needs: the columns' alignment is the stylesheet's.
 */
export const runRowHtml = (v: RunView): string => {
  const test = v.latest?.test ?? null;
  const cells = [
    `<td><input type="checkbox" class="draw" checked aria-label="draw ${esc(v.label)}"></td>`,
    `<th scope="row" class="label">${esc(v.label)}${v.trial ? ' <small>trial</small>' : ''}</th>`,
    `<td>${esc(v.model)}</td>`,
    `<td>${esc(v.optimizer)}</td>`,
    `<td>${v.seed}</td>`,
    `<td>${esc(v.precision)}</td>`,
    `<td class="status">${esc(v.state)}</td>`,
    `<td class="progress">${esc(progressText(v))}</td>`,
    `<td>${loss(v.latest?.train.loss)}</td>`,
    `<td>${pct(v.latest?.train.accuracy)}</td>`,
    `<td>${loss(test?.loss)}${test !== null && v.trial ? '<small> (held-out)</small>' : ''}</td>`,
    `<td>${pct(test?.accuracy)}</td>`,
    `<td>${finalText(v)}</td>`,
    `<td>${studyText(v)}</td>`,
    `<td class="note">${esc(printable(v.note))}</td>`,
  ];
  return `<tr data-run="${v.runId}" class="status-${v.state}">${cells.join('')}</tr>`;
};

const STATES: readonly RunState[] = ['done', 'running', 'pending', 'planned', 'interrupted', 'failed'];

/** `4 runs: 2 done, 1 running, 1 failed`. */
export const countsText = (views: readonly RunView[]): string => {
  const counts = STATES.map((s) => [s, views.filter((v) => v.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${s}`);
  return `${views.length} run${views.length === 1 ? '' : 's'}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}`;
};

/**
 * The lines above the table: how many runs are where, the directory's protocol, what could not be read,
 * and, when the last read failed (the directory was removed or its store damaged), why; the page then
 * keeps showing the last state it read.
 */
export const dirHeadHtml = (snap: DirSnapshot | null, views: readonly RunView[], error: OptbenchError | null): string => {
  const specs = snap?.runs.map((r) => r.row.spec) ?? [];
  const protocols = [...new Map(specs.map((s) => [protocolKey(protocolOf(s)), protocolOf(s)])).values()];
  const lines = [
    `<p class="counts">${esc(countsText(views))}${snap?.sweep ? ` <small>(and a ${esc(snap.sweep.kind)}: see below)</small>` : ''}</p>`,
    protocols.length > 0 ? `<p class="protocol"><small>${protocols.map((p) => esc(describeProtocol(p))).join('<br>')}</small></p>` : '',
    snap !== null && snap.warnings.length > 0 ? `<div class="warnings"><ul>${snap.warnings.map((w) => `<li>${esc(printable(w))}</li>`).join('')}</ul></div>` : '',
    error !== null
      ? `<div class="warnings dir-error" role="alert"><p>${esc(printable(error.message))}</p><p>The page shows what it read last, and follows the directory again when its store is back.</p></div>`
      : '',
  ];
  return lines.filter((l) => l !== '').join('\n');
};

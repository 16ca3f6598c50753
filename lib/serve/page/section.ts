/**
 * One run directory's part of the page: it keeps the rows, the lines above them and the sweep as the server
 * changes them, keeps which runs are ticked for drawing, and asks /d/<i>/report for the ticked runs' tables
 * and figures whenever they change. The server draws; this only swaps in what it sends.
 */
import { fragment, one } from './dom.js';
import type { DirAnswer, DirChange } from './messages.js';

export interface Section {
  readonly index: number;
  readonly version: () => number;
  /** A change the server announced: applied when it is based on this page's version, else all is asked for again. */
  readonly apply: (m: DirChange) => void;
  /** Asks for all of the directory's part again (a page that fell behind, or reconnected). */
  readonly reload: () => Promise<void>;
}

/** After the server's changes the report is drawn at most once a second: a big directory's takes the server a while. */
const AFTER_SERVER_MS = 1000;
/** Ticks come in bursts: a draw waits this long after the last change. */
const SETTLE_MS = 150;

/** The ticked runs as the shorter of two lists, those drawn or those left out: '' for all of them. */
export const choiceQuery = (ids: readonly string[], excluded: ReadonlySet<string>): string => {
  if (excluded.size === 0) return '';
  const drawn = ids.filter((id) => !excluded.has(id));
  const left = ids.filter((id) => excluded.has(id));
  return drawn.length <= left.length ? `?only=${drawn.join(',')}` : `?except=${left.join(',')}`;
};

export const section = (sec: HTMLElement): Section => {
  const index = Number(sec.dataset.dir);
  const body = one(sec, 'table.runs tbody', HTMLTableSectionElement);
  const head = one(sec, '.dir-head', HTMLElement);
  const report = one(sec, '.report', HTMLElement);
  const sweep = one(sec, '.sweep', HTMLElement);
  const text = one(sec, 'input.filter-text', HTMLInputElement);
  let version = Number(sec.dataset.version);
  /** The runs left out of the figures; every other run is drawn, new ones too. */
  const excluded = new Set<string>();
  /** Changes that came while everything was being asked for again. */
  const queued: DirChange[] = [];
  let busy = false;
  let again = false;
  let reloading = false;
  let timer: number | undefined;
  let drawnAt = 0;

  const rows = (): HTMLTableRowElement[] => [...body.querySelectorAll<HTMLTableRowElement>('tr[data-run]')];
  const idOf = (tr: HTMLElement): string => tr.dataset.run ?? '';
  const runOf = (box: Element): string => {
    const tr = box.closest('tr');
    return tr === null ? '' : idOf(tr);
  };
  const applyChecks = (): void => {
    for (const box of body.querySelectorAll<HTMLInputElement>('input.draw')) box.checked = !excluded.has(runOf(box));
  };
  const setVersion = (v: number): void => {
    version = v;
    sec.dataset.version = String(v);
  };
  /** Forgets the choice of runs that are no longer listed. */
  const keepOnly = (ids: ReadonlySet<string>): void => {
    for (const id of [...excluded]) if (!ids.has(id)) excluded.delete(id);
  };

  const draw = async (): Promise<void> => {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      const r = await fetch(`/d/${index}/report${choiceQuery(rows().map(idOf), excluded)}`);
      if (r.ok) {
        report.innerHTML = await r.text();
        sec.dataset.drawn = String(Number(sec.dataset.drawn ?? '0') + 1);
      }
    } catch {
      // The server is away: the next event after it is back draws again.
    } finally {
      busy = false;
      if (again) {
        again = false;
        void draw();
      }
    }
  };
  /** Draws a little after the last change, and not sooner than `spacing` ms after the last draw began. */
  const drawSoon = (spacing: number): void => {
    clearTimeout(timer);
    const wait = Math.max(SETTLE_MS, drawnAt + spacing - Date.now());
    timer = setTimeout(() => {
      drawnAt = Date.now();
      void draw();
    }, wait);
  };

  const apply = (m: DirChange): void => {
    if (reloading) {
      queued.push(m);
      return;
    }
    if (m.base !== version) {
      void reload();
      return;
    }
    for (const [id, html] of m.rows) {
      const row = fragment(html);
      const old = body.querySelector(`tr[data-run="${id}"]`);
      if (old) old.replaceWith(row);
      else body.append(row);
    }
    if (m.order) {
      const byId = new Map(rows().map((tr) => [idOf(tr), tr]));
      body.replaceChildren(...m.order.flatMap((id) => byId.get(id) ?? []));
      keepOnly(new Set(m.order));
    }
    if (m.head !== undefined) head.innerHTML = m.head;
    if (m.sweep !== undefined) sweep.innerHTML = m.sweep;
    applyChecks();
    setVersion(m.version);
    if (m.report) drawSoon(AFTER_SERVER_MS);
  };

  const reload = async (): Promise<void> => {
    if (reloading) return;
    reloading = true;
    try {
      const r = await fetch(`/d/${index}/runs`);
      if (!r.ok) return;
      const m = (await r.json()) as DirAnswer;
      body.replaceChildren(fragment(m.rows));
      head.innerHTML = m.head;
      sweep.innerHTML = m.sweep;
      keepOnly(new Set(rows().map(idOf)));
      applyChecks();
      setVersion(m.version);
      drawSoon(AFTER_SERVER_MS);
    } catch {
      // Tried again on the next event.
    } finally {
      reloading = false;
      for (const m of queued.splice(0)) if (m.version > version) apply(m);
    }
  };

  // The user's choice of runs: drawn at once.
  body.addEventListener('change', (e) => {
    const box = e.target;
    if (!(box instanceof HTMLInputElement) || !box.classList.contains('draw')) return;
    if (box.checked) excluded.delete(runOf(box));
    else excluded.add(runOf(box));
    drawSoon(0);
  });
  const choose = (keep: (tr: HTMLTableRowElement) => boolean): void => {
    for (const tr of rows()) {
      if (keep(tr)) excluded.delete(idOf(tr));
      else excluded.add(idOf(tr));
    }
    applyChecks();
    drawSoon(0);
  };
  /** The runs whose name contains every word typed, in any case. */
  const matching = (): void => {
    const words = text.value.toLowerCase().split(/\s+/).filter((w) => w !== '');
    choose((tr) => {
      const label = (tr.querySelector('th.label') ?? tr).textContent?.toLowerCase() ?? '';
      return words.every((w) => label.includes(w));
    });
  };
  one(sec, 'button.draw-matching', HTMLButtonElement).addEventListener('click', matching);
  one(sec, 'button.draw-all', HTMLButtonElement).addEventListener('click', () => choose(() => true));
  one(sec, 'button.draw-none', HTMLButtonElement).addEventListener('click', () => choose(() => false));
  text.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') matching();
  });

  return { index, version: () => version, apply, reload };
};

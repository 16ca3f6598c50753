/**
 * The page's own script, served as /app.js (the page runs no inline script). It is small because the
 * server draws: it follows /events, swaps in the rows, lines and sweep the server sends, keeps which runs
 * are ticked, and asks /d/<i>/report for the ticked runs' tables and figures whenever they change.
 * Plain JavaScript that every current browser runs as it is: nothing to build.
 */
export const PAGE_SCRIPT = String.raw`'use strict';
(() => {
  const sections = new Map();
  const rowsOf = (st) => st.body.querySelectorAll('tr[data-run]');
  const runOf = (box) => box.closest('tr').dataset.run;
  const applyChecks = (st) => {
    for (const box of st.body.querySelectorAll('input.draw')) box.checked = !st.excluded.has(runOf(box));
  };
  const setVersion = (st, v) => {
    st.version = v;
    st.sec.dataset.version = String(v);
  };
  const fragment = (html) => {
    const t = document.createElement('template');
    t.innerHTML = html;
    return t.content;
  };

  // The ticked runs as the shorter of two lists: those drawn, or those left out.
  const query = (st) => {
    if (st.excluded.size === 0) return '';
    const ids = [...rowsOf(st)].map((tr) => tr.dataset.run);
    const drawn = ids.filter((id) => !st.excluded.has(id));
    const left = ids.filter((id) => st.excluded.has(id));
    return drawn.length <= left.length ? '?only=' + drawn.join(',') : '?except=' + left.join(',');
  };

  const draw = async (st) => {
    if (st.busy) {
      st.again = true;
      return;
    }
    st.busy = true;
    try {
      const r = await fetch('/d/' + st.index + '/report' + query(st));
      if (r.ok) {
        st.report.innerHTML = await r.text();
        st.sec.dataset.drawn = String(Number(st.sec.dataset.drawn || '0') + 1);
      }
    } catch (e) {
      // The server is away: the next event after it is back draws again.
    } finally {
      st.busy = false;
      if (st.again) {
        st.again = false;
        void draw(st);
      }
    }
  };
  // A little after the last change (ticks come in bursts); after the server's changes at most once a
  // second (a big directory's report takes the server a while to draw), after the user's at once.
  const drawSoon = (st, spacing) => {
    clearTimeout(st.timer);
    const wait = Math.max(150, st.drawnAt + spacing - Date.now());
    st.timer = setTimeout(() => {
      st.drawnAt = Date.now();
      void draw(st);
    }, wait);
  };

  const reload = async (st) => {
    if (st.reloading) return;
    st.reloading = true;
    try {
      const r = await fetch('/d/' + st.index + '/runs');
      if (!r.ok) return;
      const m = await r.json();
      st.body.replaceChildren(fragment(m.rows));
      st.head.innerHTML = m.head;
      st.sweep.innerHTML = m.sweep;
      const ids = new Set([...rowsOf(st)].map((tr) => tr.dataset.run));
      for (const id of [...st.excluded]) if (!ids.has(id)) st.excluded.delete(id);
      applyChecks(st);
      setVersion(st, m.version);
      drawSoon(st, 1000);
    } catch (e) {
      // Tried again on the next event.
    } finally {
      st.reloading = false;
      const queued = st.queued.splice(0);
      for (const m of queued) if (m.version > st.version) apply(m);
    }
  };

  const apply = (m) => {
    const st = sections.get(m.dir);
    if (st === undefined) return;
    if (st.reloading) {
      st.queued.push(m);
      return;
    }
    if (m.base !== st.version) {
      void reload(st);
      return;
    }
    for (const [id, html] of m.rows) {
      const row = fragment(html);
      const old = st.body.querySelector('tr[data-run="' + id + '"]');
      if (old) old.replaceWith(row);
      else st.body.append(row);
    }
    if (m.order) {
      const byId = new Map([...rowsOf(st)].map((tr) => [tr.dataset.run, tr]));
      st.body.replaceChildren(...m.order.map((id) => byId.get(id)).filter((tr) => tr !== undefined));
      const keep = new Set(m.order);
      for (const id of [...st.excluded]) if (!keep.has(id)) st.excluded.delete(id);
    }
    if (m.head !== undefined) st.head.innerHTML = m.head;
    if (m.sweep !== undefined) st.sweep.innerHTML = m.sweep;
    applyChecks(st);
    setVersion(st, m.version);
    if (m.report) drawSoon(st, 1000);
  };

  for (const sec of document.querySelectorAll('section.rundir')) {
    const st = {
      index: Number(sec.dataset.dir),
      sec,
      body: sec.querySelector('table.runs tbody'),
      head: sec.querySelector('.dir-head'),
      report: sec.querySelector('.report'),
      sweep: sec.querySelector('.sweep'),
      version: Number(sec.dataset.version),
      excluded: new Set(),
      queued: [],
      busy: false,
      again: false,
      reloading: false,
      timer: 0,
      drawnAt: 0,
    };
    sections.set(st.index, st);
    st.body.addEventListener('change', (e) => {
      const box = e.target;
      if (!(box instanceof HTMLInputElement) || !box.classList.contains('draw')) return;
      if (box.checked) st.excluded.delete(runOf(box));
      else st.excluded.add(runOf(box));
      drawSoon(st, 0);
    });
    const text = sec.querySelector('input.filter-text');
    const choose = (keep) => {
      for (const tr of rowsOf(st)) {
        if (keep(tr)) st.excluded.delete(tr.dataset.run);
        else st.excluded.add(tr.dataset.run);
      }
      applyChecks(st);
      drawSoon(st, 0);
    };
    const matching = () => {
      const words = text.value.toLowerCase().split(/\s+/).filter((w) => w !== '');
      choose((tr) => {
        const label = (tr.querySelector('th.label') || tr).textContent.toLowerCase();
        return words.every((w) => label.includes(w));
      });
    };
    sec.querySelector('button.draw-matching').addEventListener('click', matching);
    sec.querySelector('button.draw-all').addEventListener('click', () => choose(() => true));
    sec.querySelector('button.draw-none').addEventListener('click', () => choose(() => false));
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') matching();
    });
  }

  const status = document.getElementById('live');
  const queue = document.getElementById('queue-body');
  let queueVersion = queue ? Number(queue.dataset.version) : 0;
  const setQueue = (q) => {
    if (!queue || q === null || q.version === queueVersion) return;
    queue.innerHTML = q.html;
    queueVersion = q.version;
    queue.dataset.version = String(q.version);
  };
  const setLive = (on) => {
    status.textContent = on ? 'live: following the run directories' : 'reconnecting…';
    status.className = on ? 'live on' : 'live off';
    document.body.dataset.live = on ? 'on' : 'off';
  };

  const events = new EventSource('/events');
  events.onopen = () => setLive(true);
  events.onerror = () => setLive(false);
  events.addEventListener('hello', (e) => {
    const m = JSON.parse(e.data);
    m.dirs.forEach((v, i) => {
      const st = sections.get(i);
      if (st !== undefined && v !== st.version) void reload(st);
    });
    setQueue(m.queue);
  });
  events.addEventListener('dir', (e) => apply(JSON.parse(e.data)));
  events.addEventListener('queue', (e) => setQueue(JSON.parse(e.data)));
})();
`;

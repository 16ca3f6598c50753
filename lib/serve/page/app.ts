/**
 * The live page's script, served as /app.js (the page runs no inline script): it follows /events and hands
 * each directory's changes to its section (section.ts), and keeps the queue's part and the live status.
 * Bundled by esbuild into one classic script (../page-script.ts).
 */
import { one } from './dom.js';
import type { QueueView, ServerEvents } from './messages.js';
import { section, type Section } from './section.js';

const sections = new Map<number, Section>();
for (const sec of document.querySelectorAll<HTMLElement>('section.rundir')) {
  const s = section(sec);
  sections.set(s.index, s);
}

const status = one(document, '#live', HTMLElement);
const queue = document.getElementById('queue-body');
let queueVersion = queue === null ? 0 : Number(queue.dataset.version);
const setQueue = (q: QueueView | null): void => {
  if (queue === null || q === null || q.version === queueVersion) return;
  queue.innerHTML = q.html;
  queueVersion = q.version;
  queue.dataset.version = String(q.version);
};
const setLive = (on: boolean): void => {
  status.textContent = on ? 'live: following the run directories' : 'reconnecting…';
  status.className = on ? 'live on' : 'live off';
  document.body.dataset.live = on ? 'on' : 'off';
};

const events = new EventSource('/events');
/** Each server-sent event by its name, with the data the server sends under it. */
const on = <K extends keyof ServerEvents>(name: K, f: (data: ServerEvents[K]) => void): void =>
  events.addEventListener(name, (e) => f(JSON.parse(e.data as string) as ServerEvents[K]));

events.onopen = () => setLive(true);
// The browser reconnects by itself; the hello that follows says what was missed.
events.onerror = () => setLive(false);
on('hello', (m) => {
  m.dirs.forEach((v, i) => {
    const s = sections.get(i);
    if (s !== undefined && v !== s.version()) void s.reload();
  });
  setQueue(m.queue);
});
on('dir', (m) => sections.get(m.dir)?.apply(m));
on('queue', setQueue);

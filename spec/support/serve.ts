/**
 * What the serve specs share: run directories written through the store's own writer with synthetic
 * events (lib/testing), the server in this process (lib/serve) or `optbench serve` as a child process,
 * raw HTTP requests (the path sent as it is, not normalised) and a reader of the server-sent events.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import * as E from 'fp-ts/lib/Either.js';
import { runId, type RunSpec } from '../../lib/config/spec.js';
import { diverged } from '../../lib/errors.js';
import { serve, type ServeOptions, type Serving } from '../../lib/serve/index.js';
import { openStore, storePath } from '../../lib/store/index.js';
import { writeSweepRecord, type SweepRecord } from '../../lib/sweep/record.js';
import { batch, ended, epochEnded, failed, searchConfig, spec, started } from '../../lib/testing/events.js';
import type { RunEvent, VaeGrids } from '../../lib/train/events.js';
import { sleep, start, until, type Child } from './cli.js';

export interface SyntheticRun {
  readonly optimizer: string;
  readonly model?: string;
  readonly seed?: number;
  readonly epochs?: number;
  /** Epochs written (default: all, then RunEnded). */
  readonly upTo?: number;
  /** Ends with RunFailed (diverged) after `upTo` epochs instead. */
  readonly fails?: boolean;
  readonly overrides?: Record<string, number>;
  readonly holdout?: number;
  /** Each epoch's steps (4) as BatchEnded before its EpochEnded, as a training process writes them. */
  readonly batches?: boolean;
}

export const specOf = (r: SyntheticRun): RunSpec =>
  spec(r.optimizer, {
    model: r.model ?? 'fcnn',
    seed: r.seed ?? 0,
    epochs: r.epochs ?? 3,
    optimizer: { name: r.optimizer, preset: 'tfkeras2', overrides: r.overrides ?? {} },
    ...(r.holdout !== undefined ? { holdout: r.holdout } : {}),
  });

/** A finished directory: two seeds of Adam and of SGD, a failed RMSprop, and a VAE. */
export const DONE_RUNS: readonly SyntheticRun[] = [
  { optimizer: 'adam', seed: 0 },
  { optimizer: 'adam', seed: 1 },
  { optimizer: 'sgd', seed: 0 },
  { optimizer: 'sgd', seed: 1 },
  { optimizer: 'rmsprop', seed: 0, upTo: 1, fails: true },
  { optimizer: 'adam', model: 'vae1', seed: 0 },
];

export const idOf = (r: SyntheticRun): string => runId(specOf(r));

/** The text of a run's row in the page (tags dropped). */
export const rowText = (html: string, id: string): string => {
  const m = new RegExp(`<tr data-run="${id}"[^>]*>([\\s\\S]*?)</tr>`).exec(html);
  assert.ok(m, `no row for run ${id}`);
  return m[1]!.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
};

/** A VAE's decoded grids: 2 latent dimensions x 3 steps and 4 samples of 4x4 images, in grey ramps. */
export const VAE_GRIDS: VaeGrids = {
  rows: 4,
  cols: 4,
  steps: [-2, 0, 2],
  traversal: [0, 1].map((d) => Buffer.from(Array.from({ length: 3 * 16 }, (_, i) => (i * 5 + d * 60) % 256)).toString('base64')),
  samples: Buffer.from(Array.from({ length: 4 * 16 }, (_, i) => (i * 4) % 256)).toString('base64'),
};

/** The events of one synthetic run, metrics distinct per optimizer, seed and epoch. */
export const runEvents = (r: SyntheticRun): RunEvent[] => {
  const s = specOf(r);
  const vae = s.model.startsWith('vae');
  const upTo = r.upTo ?? s.epochs;
  const bias = (r.optimizer.length % 5) / 50 + (r.seed ?? 0) / 100;
  const epochs = Array.from({ length: upTo }, (_, i) => {
    const k = i + 1;
    const e = epochEnded(s, k, { loss: 2 / (k + 1) + bias, accuracy: vae ? null : Math.min(0.99, 0.5 + k / 20 + bias) });
    return vae ? { ...e, train: { loss: e.train.loss, accuracy: null } } : e;
  });
  const last: RunEvent[] =
    r.fails === true
      ? [failed(s, diverged({ epoch: upTo + 1, step: 2, loss: Number.NaN, message: `The training loss became NaN at epoch ${upTo + 1}, step 2.` }), upTo)]
      : upTo < s.epochs
        ? []
        : [ended(s, { testLoss: 2 / (upTo + 1) + bias, testAccuracy: vae ? null : Math.min(0.99, 0.5 + upTo / 20 + bias) })].map((e) => ({ ...e, vae: vae ? VAE_GRIDS : null, confusion: vae ? null : e.confusion }));
  const steps = started(s).steps;
  const trained = r.batches === true ? epochs.flatMap((e) => [...Array.from({ length: steps }, (_, i) => batch(s, e.epoch, i + 1)), e]) : epochs;
  return [started(s), ...trained, ...last];
};

/** Writes the runs into `dir`'s store (created if need be) through the store's own writer. */
export const writeRuns = (dir: string, runs: readonly SyntheticRun[]): void => {
  const s = openStore(storePath(dir));
  if (E.isLeft(s)) throw new Error(s.left.message);
  try {
    for (const r of runs)
      for (const e of runEvents(r)) {
        const w = s.right.writeEvent(e);
        if (E.isLeft(w)) throw new Error(w.left.message);
      }
  } finally {
    s.right.close();
  }
};

/** A sweep.json of one ASHA search over lr with `trials` trials (as the sweep writes it), for the store's held-out runs. */
export const writeSweep = (dir: string, trials: number): SweepRecord => {
  const config = searchConfig({ strategy: 'asha', trials, epochs: 3, minEpochs: 1, eta: 3 });
  const points = Array.from({ length: trials }, (_, i) => ({ lr: 1e-3 * (i + 1) }));
  const record: SweepRecord = {
    version: 1,
    kind: 'sweep',
    title: 'sweep fcnn/adam',
    createdAt: '2026-01-01T00:00:00.000Z',
    seeds: 1,
    searches: [
      {
        config,
        trials: points.map((point, i) => ({
          trial: i,
          point,
          runId: runId(specOf({ optimizer: 'adam', overrides: point, holdout: 10 })),
          metrics: i === 0 ? [0.6, 0.7, 0.8] : [0.5 + i / 100],
          status: i === 0 ? 'completed' : 'stopped',
          error: null,
        })),
        asha: {
          version: 1,
          config: { minResource: 1, maxResource: 3, eta: 3, trials, direction: 'max' },
          rungs: [1, 3],
          trials: points.map((_, i) => ({ id: i, metrics: i === 0 ? [0.6, 0.8] : [0.5 + i / 100], running: null })),
          queue: [],
        },
        best: 0,
        interrupted: false,
      },
    ],
    final: [],
  } as unknown as SweepRecord;
  mkdirSync(dir, { recursive: true });
  writeSweepRecord(dir, record);
  return record;
};

/** The server of `dirs` in this process, as `optbench serve` starts it, on a free port of 127.0.0.1. */
export const serveHere = async (dirs: readonly string[], opts: Omit<ServeOptions, 'dirs'> = {}): Promise<Serving> => {
  const s = await serve({ dirs, port: 0, ...opts })();
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};

export interface Served {
  readonly child: Child;
  /** `http://127.0.0.1:PORT/`. */
  readonly url: string;
  readonly port: number;
}

/** `optbench serve ...args` (with --port 0 unless args give one), once it has printed its URL. */
export const startServe = async (args: readonly string[]): Promise<Served> => {
  const child = start(['serve', ...args, ...(args.includes('--port') ? [] : ['--port', '0'])]);
  await until('the server printed its URL', () => /^http:\/\/\S+\/\n/.test(child.stdout), child, 60_000);
  const url = child.stdout.split('\n')[0]!;
  return { child, url, port: Number(new URL(url).port) };
};

/** Stops a server with SIGINT and returns its exit. */
export const stopServe = async (s: Served): Promise<number | null> => {
  s.child.proc.kill('SIGINT');
  return (await s.child.exit).code;
};

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** One request whose target is sent exactly as given (node:http does not normalise it), with `headers`. */
export const request = (url: string, target: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> =>
  new Promise((done, failed) => {
    const u = new URL(url);
    const req = httpRequest({ host: u.hostname, port: u.port, method: opts.method ?? 'GET', path: target, headers: opts.headers ?? {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', failed);
    req.end();
  });

export interface SseEvent {
  readonly event: string;
  readonly data: unknown;
  /** Date.now() when it arrived. */
  readonly at: number;
}

/** Follows /events: every event as it arrives. */
export const followEvents = (url: string): { readonly events: SseEvent[]; readonly close: () => void } => {
  const events: SseEvent[] = [];
  const u = new URL(url);
  const req = httpRequest({ host: u.hostname, port: u.port, path: '/events' }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as unknown, at: Date.now() });
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { events, close: () => req.destroy() };
};

/** Polls `cond` until it holds (or fails after `ms`). */
export const eventually = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
};

/**
 * `optbench serve <run-dir>... [--port N] [--host H] [--queue URL]`: the live page of run directories
 * (lib/serve), until Ctrl-C or SIGTERM (exit 130 or 143, as every command stopped by them).
 */
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, printable } from '../../lib/errors.js';
import { serve } from '../../lib/serve/index.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../lib/serve/options.js';
import { fail, warn } from './exit.js';
import { SIGNAL_EXIT, type StopSignal } from './interrupt.js';
import { parseOptions } from './options.js';

const SERVE_OPTIONS = { port: { type: 'string' }, host: { type: 'string' }, queue: { type: 'string' } } as const;

const USAGE = 'Usage: optbench serve <run-dir>... [--port N] [--host H] [--queue URL] (the --out directories of tasks, runs or sweeps).';

const parsePort = (raw: string | boolean | undefined): E.Either<ReturnType<typeof invalidConfig>, number> => {
  if (raw === undefined) return E.right(DEFAULT_PORT);
  const text = String(raw).trim();
  const n = Number(text);
  return /^\d{1,5}$/.test(text) && n <= 65_535
    ? E.right(n)
    : E.left(invalidConfig({ path: 'port', message: `--port must be a whole number from 0 to 65535 (0: any free port), got '${printable(text)}'.` }));
};

/**
 * The first SIGINT or SIGTERM, listened for from before the server starts (reading a big directory takes a
 * while, and a Ctrl-C then still stops it cleanly); released when the command ends without serving, so
 * that `main` run in-process leaves no listener behind.
 */
const stopSignal = (): { readonly signal: Promise<StopSignal>; readonly release: () => void } => {
  let onInt = (): void => undefined;
  let onTerm = (): void => undefined;
  const release = (): void => {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  };
  const signal = new Promise<StopSignal>((done) => {
    onInt = () => (release(), done('SIGINT'));
    onTerm = () => (release(), done('SIGTERM'));
  });
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return { signal, release };
};

export const serveCommand = async (argv: readonly string[]): Promise<number> => {
  const p = parseOptions(argv, SERVE_OPTIONS);
  if (E.isLeft(p)) return fail(p.left);
  const dirs = p.right.positionals;
  if (dirs.length === 0) return fail(invalidConfig({ path: 'run-dir', message: USAGE }));
  const port = parsePort(p.right.values.port);
  if (E.isLeft(port)) return fail(port.left);
  const host = p.right.values.host;
  if (typeof host === 'string' && host.trim() === '')
    return fail(invalidConfig({ path: 'host', message: `--host '${printable(host)}' is empty: give an address of this machine, or leave out --host to listen on ${DEFAULT_HOST}.` }));
  const queue = p.right.values.queue;
  const stopped = stopSignal();
  const started = await serve({
    dirs,
    port: port.right,
    ...(typeof host === 'string' ? { host: host.trim() } : {}),
    ...(typeof queue === 'string' ? { queue } : {}),
  })();
  if (E.isLeft(started)) {
    stopped.release();
    return fail(started.left);
  }
  const s = started.right;
  if (s.exposed)
    warn(
      `listening on ${s.host}: the page (every run's spec and metrics) is reachable from other machines, with no password. Leave out --host to serve this machine only.`,
    );
  process.stdout.write(`${s.url}\n`);
  process.stderr.write(`optbench: serving ${dirs.length} run director${dirs.length === 1 ? 'y' : 'ies'} at ${s.url}, read-only (Ctrl-C stops)\n`);
  const signal = await stopped.signal;
  await s.close();
  return SIGNAL_EXIT[signal];
};

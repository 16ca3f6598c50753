import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import { runLabel } from '../config/spec.js';
import type { RunEvent, RunStarted } from './events.js';

export const formatDuration = (ms: number): string => {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
};

const pct = (x: number | null): string => (x === null ? '' : ` acc ${(100 * x).toFixed(2)}%`);

interface Writable {
  write(s: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Shows a grid's progress on `out` (stderr by default): on a terminal one line that updates in place
 * (run i of n, epoch, batch, loss, time left), otherwise a plain line per epoch and per run.
 * Time left assumes the remaining runs take as long per epoch as this one has so far.
 */
export const showProgress =
  (out: Writable = process.stderr): MonoTypeOperatorFunction<RunEvent> =>
  (source) => {
    let current: RunStarted | undefined;
    let epochMs: number[] = [];
    let lastDraw = 0;
    const tty = out.isTTY === true;
    const clear = (): void => {
      if (tty) out.write('\r\x1b[2K');
    };
    const timeLeft = (epoch: number, fraction: number, elapsedMs: number): string => {
      if (!current) return '?';
      const perEpoch =
        epochMs.length > 0 ? epochMs.reduce((a, b) => a + b, 0) / epochMs.length : fraction > 0 ? elapsedMs / fraction : NaN;
      const epochs = current.spec.epochs;
      const thisRun = (epochs - epoch + 1 - fraction) * perEpoch;
      const later = (current.total - current.index) * epochs * perEpoch;
      return formatDuration(thisRun + later);
    };
    return source.pipe(
      tap({
        next: (e) => {
          switch (e.type) {
            case 'RunStarted':
              current = e;
              epochMs = [];
              clear();
              out.write(
                `run ${e.index}/${e.total} ${runLabel(e.spec)} on ${e.backend}: ${e.parameters.toLocaleString('en-US')} parameters, ` +
                  `${e.steps} steps per epoch${e.fromEpoch > 0 ? `, resuming after epoch ${e.fromEpoch}` : ''}\n`,
              );
              return;
            case 'BatchEnded': {
              if (!tty || !current) return;
              const now = Date.now();
              if (now - lastDraw < 200 && e.step !== e.steps) return;
              lastDraw = now;
              const line =
                `run ${current.index}/${current.total} ${runLabel(current.spec)} epoch ${e.epoch}/${current.spec.epochs} ` +
                `batch ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} left ~${timeLeft(e.epoch, e.step / e.steps, e.elapsedMs)}`;
              out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 120) - 1)}`);
              return;
            }
            case 'EpochEnded':
              epochMs.push(e.trainMs + e.evalMs);
              clear();
              out.write(
                `  epoch ${e.epoch}/${e.epochs}: train loss ${e.train.loss.toFixed(4)}${pct(e.train.accuracy)}, ` +
                  `test loss ${e.test.loss.toFixed(4)}${pct(e.test.accuracy)} (${formatDuration(e.trainMs)} train, ` +
                  `${formatDuration(e.evalMs)} eval; left ~${timeLeft(e.epoch + 1, 0, 0)})\n`,
              );
              return;
            case 'RunEnded':
              clear();
              out.write(
                `  done: test loss ${e.final.testLoss.toFixed(4)}${pct(e.final.testAccuracy)} in ${formatDuration(e.trainMs + e.evalMs)}\n`,
              );
              return;
            case 'RunFailed':
              clear();
              out.write(`  ${e.error._tag === 'Interrupted' ? 'interrupted' : 'failed'}: ${e.error.message}\n`);
              return;
          }
        },
        complete: clear,
        error: clear,
      }),
    );
  };

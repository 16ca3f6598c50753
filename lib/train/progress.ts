import { defer, tap, type Observable } from 'rxjs';
import { runDisplayLabel } from '../config/spec.js';
import { isRunEvent, type RunEvent, type RunStarted, type StreamEvent } from './events.js';
import { isTargetReached, targetText, type TargetReached } from './target.js';

const formatDuration = (ms: number): string => {
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
 * (run i of n, epoch, batch, loss, time left), otherwise a plain line per epoch and per run. With several
 * runs in flight, each line names its run. Time left assumes the remaining runs take as long per epoch as
 * this one has so far. A run that reaches its target (reachTarget) gets a line too; every other event
 * passes through unshown.
 */
export const showProgress =
  (out: Writable = process.stderr) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E> =>
    defer(() => {
      const running = new Map<string, { started: RunStarted; epochMs: number[] }>();
      let lastDraw = 0;
      const tty = out.isTTY === true;
      const clear = (): void => {
        if (tty) out.write('\r\x1b[2K');
      };
      const timeLeft = (runId: string, epoch: number, fraction: number, elapsedMs: number): string => {
        const r = running.get(runId);
        if (!r) return '?';
        const { started, epochMs } = r;
        const perEpoch =
          epochMs.length > 0 ? epochMs.reduce((a, b) => a + b, 0) / epochMs.length : fraction > 0 ? elapsedMs / fraction : NaN;
        const epochs = started.spec.epochs;
        const thisRun = (epochs - epoch + 1 - fraction) * perEpoch;
        const later = (started.total - started.index) * epochs * perEpoch;
        return formatDuration(thisRun + later);
      };
      /** The run a line is about, when more than one is in flight. */
      const who = (runId: string): string => {
        const r = running.get(runId);
        return running.size > 1 && r ? `${runDisplayLabel(r.started.spec)} ` : '';
      };
      const show = (e: RunEvent): void => {
        switch (e.type) {
          case 'RunStarted':
            running.set(e.runId, { started: e, epochMs: [] });
            clear();
            out.write(
              `run ${e.index}/${e.total} ${runDisplayLabel(e.spec)} on ${e.backend}: ${e.parameters.toLocaleString('en-US')} parameters, ` +
                `${e.steps} steps per epoch${e.fromEpoch > 0 ? `, resuming after epoch ${e.fromEpoch}` : ''}\n`,
            );
            return;
          case 'BatchEnded': {
            const r = running.get(e.runId);
            if (!tty || !r) return;
            const now = Date.now();
            if (now - lastDraw < 200 && e.step !== e.steps) return;
            lastDraw = now;
            const { started } = r;
            const line =
              `run ${started.index}/${started.total} ${runDisplayLabel(started.spec)} epoch ${e.epoch}/${started.spec.epochs} ` +
              `batch ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} left ~${timeLeft(e.runId, e.epoch, e.step / e.steps, e.elapsedMs)}`;
            out.write(`\r\x1b[2K${line.slice(0, (out.columns ?? 120) - 1)}`);
            return;
          }
          case 'EpochEnded': {
            running.get(e.runId)?.epochMs.push(e.trainMs + e.evalMs);
            clear();
            const test = e.test === null ? '' : `, ${e.evaluation?.split === 'validation' ? 'validation' : 'test'} loss ${e.test.loss.toFixed(4)}${pct(e.test.accuracy)}`;
            const held = e.validation === undefined ? '' : `, held-out loss ${e.validation.loss.toFixed(4)}${pct(e.validation.accuracy)}`;
            const evalTime = e.test === null ? '' : `, ${formatDuration(e.evalMs)} eval`;
            out.write(
              `  ${who(e.runId)}epoch ${e.epoch}/${e.epochs}: train loss ${e.train.loss.toFixed(4)}${pct(e.train.accuracy)}${test}${held} ` +
                `(${formatDuration(e.trainMs)} train${evalTime}; left ~${timeLeft(e.runId, e.epoch + 1, 0, 0)})\n`,
            );
            return;
          }
          case 'RunEnded':
            clear();
            out.write(
              `  ${who(e.runId)}done: ${e.final === null ? '' : `test loss ${e.final.testLoss.toFixed(4)}${pct(e.final.testAccuracy)} `}in ${formatDuration(e.trainMs + e.evalMs)}\n`,
            );
            running.delete(e.runId);
            return;
          case 'RunPaused':
            clear();
            out.write(`  ${who(e.runId)}paused after epoch ${e.epochsDone}/${e.spec.epochs}\n`);
            running.delete(e.runId);
            return;
          case 'RunFailed':
            clear();
            out.write(`  ${who(e.runId)}${e.error._tag === 'Interrupted' ? 'interrupted' : 'failed'}: ${e.error.message}\n`);
            running.delete(e.runId);
            return;
        }
      };
      const reached = (e: TargetReached): void => {
        clear();
        const value = e.metric === 'accuracy' ? `${(100 * e.value).toFixed(2)}%` : e.value.toFixed(4);
        out.write(
          `  ${who(e.runId)}reached its target (${targetText({ metric: e.metric, goal: e.goal })}, held-out ${value}) after epoch ${e.epoch}, step ${e.step}: ${formatDuration(e.seconds * 1000)} of training\n`,
        );
      };
      return source.pipe(
        tap({
          next: (e) => {
            if (isRunEvent(e)) show(e);
            else if (isTargetReached(e)) reached(e);
          },
          complete: clear,
          error: clear,
        }),
      );
    });

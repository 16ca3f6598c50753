/** `optbench sweep` and `optbench tune` as main() runs them: the parsed command run against its store. */
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import { BUILT_IN_REGISTRIES, type Registries } from './registries.js';
import { builtInRuntime } from '../../lib/train/runtime.js';
import { runSweep } from '../sweep.js';
import type { OptbenchError } from '../../lib/errors.js';
import { writeSweepReport } from '../../lib/report/sweep.js';
import { openStore, storePath } from '../../lib/store/store.js';
import type { SweepRecord } from '../../lib/sweep/record.js';
import { fail } from './exit.js';
import { finishRunDir } from './finish.js';
import { onCtrlC, SIGNAL_EXIT, type StopSignal } from './interrupt.js';
import { parseSweepCommand, parseTuneCommand, type SweepCommand } from './sweep-args.js';
import { connectQueue } from '../../lib/queue/client.js';
import { queueTrainer } from '../../lib/queue/trainer.js';

/** The one-object summary printed by `--json`. */
const sweepJson = (r: SweepRecord) => ({
  kind: r.kind,
  searches: r.searches.map((s) => ({
    optimizer: s.config.optimizer,
    strategy: s.config.strategy,
    trials: s.trials.map((t) => ({ trial: t.trial, point: t.point, status: t.status, validation: t.metrics[t.metrics.length - 1] ?? null, epochs: t.metrics.length })),
    best: s.best === null ? null : { trial: s.best, point: s.trials[s.best]!.point, validation: s.trials[s.best]!.metrics[s.config.epochs - 1] ?? null },
  })),
  final: r.final,
});

/**
 * Runs a sweep or tune against the store in its output directory; Ctrl-C stops after the current step
 * (finished epochs are kept and the same command continues), a second Ctrl-C exits at once.
 */
const executeSweep = async (
  cmd: SweepCommand,
  reg: Registries,
): Promise<E.Either<OptbenchError, { record: SweepRecord; interrupted: boolean; signal: StopSignal | null }>> => {
  const opened = openStore(storePath(cmd.job.out));
  if (E.isLeft(opened)) return opened;
  const store = opened.right;
  const ctrlC = onCtrlC();
  const queue = cmd.queue !== undefined ? await connectQueue(cmd.queue) : undefined;
  if (queue !== undefined && E.isLeft(queue)) {
    ctrlC.release();
    store.close();
    return queue;
  }
  try {
    const done = await runSweep(
      // Over the queue every trial of a rung (and every retraining run) is in flight at once, unless --concurrency says otherwise.
      queue && cmd.concurrencyGiven !== true ? { ...cmd.job, concurrency: 1_000_000 } : cmd.job,
      {
        store,
        shouldStop: ctrlC.stopRequested,
        progress: !cmd.json,
        runtime: { ...builtInRuntime(), ...reg },
        ...(queue ? { train: queueTrainer(queue.right, { shouldStop: ctrlC.stopRequested }) } : {}),
      },
    );
    if (E.isLeft(done)) return done;
    const signal = ctrlC.signal();
    if (done.right.record.final.length > 0) await finishRunDir(cmd.job.out, { report: cmd.report, store });
    if (cmd.report) {
      const written = await writeSweepReport(cmd.job.out);
      if (E.isLeft(written)) process.stderr.write(`optbench: the sweep report could not be written: ${written.left.message}\n`);
      else if (written.right.length > 0) process.stderr.write(`Sweep report: ${join(cmd.job.out, 'sweep.html')}\n`);
    }
    return E.right({ ...done.right, signal });
  } finally {
    await queue?.right.close();
    ctrlC.release();
    store.close();
  }
};

/** `sweep` and `tune` as main() runs them; the exit code. */
export const sweepMain = async (command: 'sweep' | 'tune', argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<number> => {
  const cmd = await (command === 'sweep' ? parseSweepCommand(argv, reg) : parseTuneCommand(argv, reg));
  if (E.isLeft(cmd)) return fail(cmd.left);
  const done = await executeSweep(cmd.right, reg);
  if (E.isLeft(done)) return fail(done.left);
  if (cmd.right.json) process.stdout.write(`${JSON.stringify(sweepJson(done.right.record))}\n`);
  else process.stderr.write(`Results: ${cmd.right.job.out}\n`);
  if (done.right.interrupted) {
    process.stderr.write(`Interrupted. Finished epochs are kept in ${cmd.right.job.out}; run the same command with --out ${cmd.right.job.out} to continue.\n`);
    return SIGNAL_EXIT[done.right.signal ?? 'SIGINT'];
  }
  return 0;
};

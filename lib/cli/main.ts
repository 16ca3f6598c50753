#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { isOptbenchError, printable, toOptbenchError, unknown } from '../errors.js';
import { EXIT, fail } from './exit.js';
import { executeGrid, everyRunFailed, jsonSummary, parseRunCommand, parseTaskCommand } from './grid-command.js';
import { SIGNAL_EXIT } from './interrupt.js';
import { rebuildCommand } from './rebuild-command.js';
import { dataCommand, listCommand } from './info-commands.js';
import { reportCommand } from './report-command.js';
import { sweepMain } from './sweep-command.js';
import { exportCommand, runsCommand } from './store-commands.js';
import { queueCommand } from './queue-command.js';
import { workerCommand } from './worker-command.js';

const USAGE = `optbench: train and compare optimizers on Fashion-MNIST models

Usage:
  optbench task <1-5|fcnn|scnn|bcnn|mcnn|vae|quick> [options]   the study's tasks, or a quick demo
  optbench run --models a,b [--optimizers a,b|all] [options]     any grid
  optbench list [--json]                                         models and optimizers (per preset)
  optbench data check [--data-dir D] [--dataset NAME]            where the data is, whether it verifies
  optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex]
  optbench sweep --model M --optimizer O --space "lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99)"
                 [--trials N] [--strategy grid|random|asha] [--eta 3] [--min-epochs 1] [--concurrency C]
                 [--holdout 10000] [--epochs E] [--seeds S] [options]   search on held-out images, retrain best
  optbench tune --model M [--optimizers all|a,b] --budget K [--seeds S] [--epochs E] [options]
                 every optimizer: same K-trial learning-rate search, then defaults vs tuned
  optbench runs <run-dir> [--json]                               every run: status, epochs done, final metrics
  optbench export <run-dir> [--format csv|json] [--out FILE]     every run and epoch from the store
  optbench rebuild <run-dir>                                     a new store from runs/*.json (when the store is lost)
  optbench worker --queue URL [--concurrency N] [--threads T] [--backend B] [--data-dir D]
                 trains the runs of a queue (Redis) until stopped; task and run take --queue URL
  optbench queue status|clean --queue URL [--json]              what the queue holds; remove finished runs

Grid options:
  --epochs N  --batch-size N  --subset N (training images)  --test-subset N  --seeds N
  --optimizers adam:lr=3e-4,beta2=0.99,sgd|all   --preset tfkeras2|keras231|torch|paper
  --backend auto|native|cpu|tensorflow|tensorflow-gpu   --out DIR (default runs/<task>-<time>)
  --data-dir D  --dataset NAME  --download  --json  --no-report  --force (write into a non-empty directory)
  --queue redis://HOST:PORT  (task, run, sweep, tune: runs are trained by the queue's workers; see optbench worker)
  --precision fp32|bf16 (task, run: bf16 convolutions and products on native; fp32 is the default)

Exit codes: 0 done, 1 failed (at run time, or every run of the grid failed), 2 bad input,
130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM.
`;

export const COMMANDS = ['task', 'run', 'list', 'data', 'report', 'runs', 'export', 'rebuild', 'sweep', 'tune', 'worker', 'queue', 'help'];

// The CLI runs TF.js in production mode: no debug checks, and no banner urging tfjs-node on stderr.
tf.env().set('PROD', true);

export const main = async (argv: readonly string[]): Promise<number> => {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    case 'task':
    case 'run': {
      const cmd = await (command === 'task' ? parseTaskCommand(rest) : parseRunCommand(rest));
      if (E.isLeft(cmd)) return fail(cmd.left);
      const done = await executeGrid(cmd.right);
      if (E.isLeft(done)) return fail(done.left);
      const outcome = done.right;
      if (cmd.right.json) process.stdout.write(`${JSON.stringify(jsonSummary(outcome.runs))}\n`);
      else process.stderr.write(`Results: ${cmd.right.job.out}\n`);
      if (outcome.interrupted) {
        process.stderr.write(
          `Interrupted. Finished epochs are kept in ${cmd.right.job.out}; run the same command with --out ${cmd.right.job.out} to continue.\n`,
        );
        return SIGNAL_EXIT[outcome.signal ?? 'SIGINT'];
      }
      const failed = everyRunFailed(outcome.runs);
      if (failed !== null) {
        // Whatever made the runs fail, the command failed at run time.
        fail(failed);
        return EXIT.failed;
      }
      return EXIT.done;
    }
    case 'list':
      return listCommand(rest);
    case 'data':
      return dataCommand(rest);
    case 'sweep':
    case 'tune':
      return sweepMain(command, rest);
    case 'report':
      return reportCommand(rest);
    case 'runs':
      return runsCommand(rest);
    case 'export':
      return exportCommand(rest);
    case 'rebuild':
      return rebuildCommand(rest);
    case 'worker':
      return workerCommand(rest, fail);
    case 'queue':
      return queueCommand(rest, fail);
    default:
      return fail(unknown('command', command, COMMANDS));
  }
};

// Run only as the program itself, so that tests can import `main` and call it with their own argv.
const isEntry = (): boolean => {
  try {
    return process.argv[1] !== undefined && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
};

if (isEntry()) main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const err = isOptbenchError(e) ? e : toOptbenchError(e);
    process.stderr.write(`optbench: ${printable(err.message)}\n`);
    if (process.env.OPTBENCH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = EXIT.failed;
  },
);

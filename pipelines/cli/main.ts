#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { isOptbenchError, printable, toOptbenchError, unknown } from '../../lib/errors.js';
import { EXIT, fail } from './exit.js';
import { executeGrid, everyRunFailed, jsonSummary, parseRunCommand, parseTaskCommand } from './grid-command.js';
import { SIGNAL_EXIT } from './interrupt.js';
import { rebuildCommand } from './rebuild-command.js';
import { dataCommand, listCommand } from './info-commands.js';
import { reportCommand } from './report-command.js';
import { serveCommand } from './serve-command.js';
import { sweepMain } from './sweep-command.js';
import { exportCommand, runsCommand } from './store-commands.js';
import { queueCommand } from './queue-command.js';
import { workerCommand } from './worker-command.js';
import { USAGE, usageOf, wantsHelp } from './usage.js';
import { BUILT_IN_REGISTRIES, type Registries } from './registries.js';

export const COMMANDS = ['task', 'run', 'list', 'data', 'report', 'runs', 'export', 'rebuild', 'sweep', 'tune', 'worker', 'queue', 'serve', 'help'];

// The CLI runs TF.js in production mode: no debug checks, and no banner urging tfjs-node on stderr.
tf.env().set('PROD', true);

/**
 * The command line. A script can run it in-process with its own models and optimizers (by value, from
 * its runtime): `main(['run', '--models', 'mine', ...], { models, optimizers })`.
 */
export const main = async (argv: readonly string[], reg: Registries = BUILT_IN_REGISTRIES): Promise<number> => {
  const [command, ...rest] = argv;
  // `optbench run --help` and `optbench help run`: the command's usage, and nothing else is done.
  if (command !== undefined && COMMANDS.includes(command) && command !== 'help' && wantsHelp(rest)) return help(command);
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
      return help(undefined);
    case 'help':
      // `optbench help`, `help help` and `help --help` are the whole usage.
      return help(rest[0] === undefined || rest[0] === 'help' || wantsHelp(rest) ? undefined : rest[0]);
    case 'task':
    case 'run': {
      const cmd = await (command === 'task' ? parseTaskCommand(rest, reg) : parseRunCommand(rest, reg));
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
      return listCommand(rest, reg);
    case 'data':
      return dataCommand(rest);
    case 'sweep':
    case 'tune':
      return sweepMain(command, rest, reg);
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
    case 'serve':
      return serveCommand(rest);
    default:
      return fail(unknown('command', command, COMMANDS));
  }
};

/** Writes the usage, or one command's; a name that is no command is an UnknownName error listing the commands. */
const help = (command: string | undefined): number => {
  if (command === undefined) {
    process.stdout.write(USAGE);
    return EXIT.done;
  }
  const text = usageOf(command);
  if (text === undefined) return fail(unknown('command', command, COMMANDS));
  process.stdout.write(text);
  return EXIT.done;
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

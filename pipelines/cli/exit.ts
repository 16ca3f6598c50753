import { printable, type OptbenchError } from '../../lib/errors.js';

/**
 * The exit codes of every command (README "Exit codes" lists them):
 *   0   done (a grid whose runs all ended, even if some of them failed)
 *   1   failed at run time: bad data, a store or file that cannot be used, or a grid whose every run failed
 *   2   bad input: an unknown name, an invalid option or value, a refused output directory or protocol
 *   130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM: finished epochs are kept, the same command continues
 */
export const EXIT = { done: 0, failed: 1, badInput: 2, sigint: 130, sigterm: 143 } as const;

/** The exit code an error ends a command with. */
const exitCodeOf = (e: OptbenchError): number =>
  e._tag === 'InvalidConfig' || e._tag === 'UnknownName' ? EXIT.badInput : EXIT.failed;

/** Prints the error as one line (control characters escaped) and returns its exit code. */
export const fail = (e: OptbenchError): number => {
  process.stderr.write(`optbench: ${printable(e.message)}\n`);
  return exitCodeOf(e);
};

/** A warning on stderr, one line. */
export const warn = (message: string): void => {
  process.stderr.write(`optbench: warning: ${printable(message)}\n`);
};

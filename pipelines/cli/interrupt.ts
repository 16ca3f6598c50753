/**
 * Stopping long commands: the first SIGINT (Ctrl-C) or SIGTERM (`kill`, a service manager, a CI timeout)
 * asks the work to stop after its current step, so that finished epochs are kept, the summary and report
 * are written and the same command continues; a second signal exits at once (130 for SIGINT, 143 for
 * SIGTERM).
 */
export type StopSignal = 'SIGINT' | 'SIGTERM';

export const SIGNAL_EXIT: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

export const onCtrlC = (): {
  readonly stopRequested: () => boolean;
  /** The signal that asked to stop, if one did. */
  readonly signal: () => StopSignal | null;
  readonly release: () => void;
} => {
  let stop: StopSignal | null = null;
  const handler = (signal: StopSignal): void => {
    if (stop !== null) process.exit(SIGNAL_EXIT[signal]);
    stop = signal;
    const again = signal === 'SIGINT' ? 'Ctrl-C again' : 'SIGTERM; send it again';
    process.stderr.write(`\nStopping after the current step (${again} to quit at once)...\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    stopRequested: () => stop !== null,
    signal: () => stop,
    release: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
};

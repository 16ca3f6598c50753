/**
 * Ctrl-C for long commands: the first SIGINT asks the work to stop after its current step (finished
 * epochs are kept and the same command continues), a second exits at once with 130.
 */
export const onCtrlC = (): { readonly stopRequested: () => boolean; readonly release: () => void } => {
  let stop = false;
  const handler = (): void => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\nStopping after the current step (Ctrl-C again to quit at once)...\n');
  };
  process.on('SIGINT', handler);
  return { stopRequested: () => stop, release: () => void process.off('SIGINT', handler) };
};

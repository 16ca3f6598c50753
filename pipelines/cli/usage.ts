/**
 * The CLI's usage text, whole (`optbench help`) or for one command (`optbench help run`, `optbench run --help`):
 * one text, so that a command's help is always the same lines as the whole usage shows for it.
 */

export const USAGE = `optbench: train and compare optimizers on Fashion-MNIST models

Usage:
  optbench task <1-5|fcnn|scnn|bcnn|mcnn|vae|quick> [options]   the study's tasks, or a quick demo
  optbench run --models a,b [--optimizers a,b|all] [options]     any grid
  optbench list [--json]                                         models and optimizers (per preset)
  optbench data check [--data-dir D] [--dataset NAME]            where the data is, whether it verifies
  optbench report <run-dir> [--out DIR] [--format html,md,png,svg,csv,tex]
  optbench sweep --model M --optimizer O --space "lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99)"
                 [--trials N] [--strategy grid|random|asha] [--eta 3] [--min-epochs 1] [--concurrency C]
                 [--holdout 10000] [--epochs E] [--seeds S] [options]   search on held-out images, retrain best
  optbench tune --model M [--optimizers all|modern|a,b] --budget K [--seeds S] [--epochs E] [options]
                 every optimizer: same K-trial learning-rate search, then defaults vs tuned
  optbench runs <run-dir> [--json]                               every run: status, epochs done, final metrics
  optbench export <run-dir> [--format csv|json] [--out FILE]     every run and epoch from the store
  optbench rebuild <run-dir>                                     a new store from runs/*.json (when the store is lost)
  optbench worker --queue URL [--concurrency N] [--threads T] [--backend B] [--data-dir D]
                 trains the runs of a queue (Redis) until stopped; task and run take --queue URL
  optbench queue status|clean --queue URL [--json]              what the queue holds; remove finished runs
  optbench serve <run-dir>... [--port N] [--host H] [--queue URL]
                 a live page of the runs (read-only; port 8600, on 127.0.0.1 unless --host says otherwise)
  optbench help [command]                                        this text, or one command's (or: optbench <command> --help)

Grid options:
  --epochs N  --batch-size N  --subset N (training images)  --test-subset N  --seeds N
  --optimizers adam:lr=3e-4,beta2=0.99,sgd|all|study|modern   --preset tfkeras2|keras231|torch|paper|modern
  --schedule constant|cosine|linear|step[,warmup=N[epochs]][,stepEvery=N[epochs]][,stepGamma=x] (task, run: every
             optimizer's learning-rate schedule; an optimizer's own, adam:schedule=cosine,warmup=500, overrides it)
  --backend auto|native|cpu|tensorflow|tensorflow-gpu   --out DIR (default runs/<task>-<time>)
  --data-dir D  --dataset NAME  --download  --json  --no-report  --force (write into a non-empty directory)
  --queue redis://HOST:PORT  (task, run, sweep, tune: runs are trained by the queue's workers; see optbench worker)
  --precision fp32|bf16 (task, run: bf16 convolutions and products on native; fp32 is the default)
  --target default|accuracy=0.88|loss=30|MODEL:accuracy=A|MODEL:loss=L[,...] (task, run: record when each run first
             reaches that metric on held-out training images, never the test set; the report adds time-to-target
             tables and performance profiles; default: per model, the median of the study's seven final values;
             see docs/time-to-target.md)  --holdout N (with --target: training images held out, default 10000)

Exit codes: 0 done, 1 failed (at run time, or every run of the grid failed), 2 bad input,
130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM.
`;

/** The commands whose options include the grid options above. */
const TAKES_GRID_OPTIONS: ReadonlySet<string> = new Set(['task', 'run', 'sweep', 'tune']);

/**
 * One command's part of USAGE: its synopsis lines (with their continuation lines), the grid options when
 * it takes them, and the exit codes; undefined for a name USAGE has no synopsis for.
 */
export const usageOf = (command: string): string | undefined => {
  const [head, rest] = USAGE.split('\nUsage:\n') as [string, string];
  const [synopses, afterSynopses] = rest.split('\n\nGrid options:\n') as [string, string];
  const [gridOptions, exitCodes] = afterSynopses.split('\n\n') as [string, string];
  const lines: string[] = [];
  let inEntry = false;
  for (const line of synopses.split('\n')) {
    if (/^ {2}optbench /.test(line)) inEntry = line.startsWith(`  optbench ${command} `);
    if (inEntry) lines.push(line);
  }
  if (lines.length === 0) return undefined;
  const grid = TAKES_GRID_OPTIONS.has(command) ? `\nGrid options:\n${gridOptions}\n` : '';
  return `${head}\nUsage:\n${lines.join('\n')}\n${grid}\n${exitCodes}`;
};

/** Whether a command's arguments ask for help: `--help` or `-h` anywhere before a `--` (after it, arguments are values). */
export const wantsHelp = (args: readonly string[]): boolean => {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
};

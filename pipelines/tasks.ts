/**
 * The study's tasks (its `python main.py <task#>`) and the quick demo, as data: which models, and the
 * protocol's sizes. Pipelines are built from these by `taskPlan` and run with the public operators.
 */
export interface TaskDef {
  readonly id: string;
  /** Accepted on the command line besides the id: `1`, `fcnn`. */
  readonly aliases: readonly string[];
  readonly title: string;
  readonly models: readonly string[];
  readonly epochs: number;
  readonly batchSize: number;
  /** Training images (default: all 60,000). */
  readonly subset?: number;
  readonly testSubset?: number;
}

const study = (n: number, id: string, models: string[], title: string): TaskDef => ({
  id,
  aliases: [String(n), id],
  title,
  models,
  epochs: 50,
  batchSize: 200,
});

export const STUDY_TASKS: readonly TaskDef[] = [
  study(1, 'fcnn', ['fcnn'], 'Task 1: fully connected network (FCNN), seven optimizers'),
  study(2, 'scnn', ['scnn'], 'Task 2: small convolutional network (SCNN), seven optimizers'),
  study(3, 'bcnn', ['bcnn'], 'Task 3: bigger convolutional network (BCNN), seven optimizers'),
  study(4, 'mcnn', ['mcnn'], 'Task 4: my convolutional network (MCNN), seven optimizers'),
  study(5, 'vae', ['vae1', 'vae2'], 'Task 5: variational autoencoders (VAE1, VAE2), seven optimizers'),
];

/**
 * The quick demo: every optimizer on a classifier and a VAE, on a subset sized so that the whole grid
 * finishes in a few minutes on the backend at hand (the JavaScript `cpu` backend is ~300x slower than
 * `native`, so it gets a far smaller subset).
 */
export const quickTask = (backend: string): TaskDef =>
  backend === 'cpu'
    ? {
        id: 'quick',
        aliases: ['quick'],
        title: 'Quick: FCNN and VAE1, seven optimizers, 100 training images (cpu backend)',
        models: ['fcnn', 'vae1'],
        epochs: 2,
        batchSize: 50,
        subset: 100,
        testSubset: 1000,
      }
    : {
        id: 'quick',
        aliases: ['quick'],
        title: 'Quick: FCNN and VAE1, seven optimizers, 10,000 training images',
        models: ['fcnn', 'vae1'],
        epochs: 3,
        batchSize: 200,
        subset: 10000,
      };

export const TASK_NAMES: readonly string[] = [...STUDY_TASKS.flatMap((t) => t.aliases), 'quick'];

export const findTask = (name: string, backend: string): TaskDef | undefined =>
  name === 'quick' ? quickTask(backend) : STUDY_TASKS.find((t) => t.aliases.includes(name.toLowerCase()));

/**
 * The study's published results (`seed/project3-report.md`, tables 1-6; pinned in
 * `spec/study-protocol.md`): single runs of 50 epochs, final test accuracy in % or VAE test loss.
 */
/** The study's seven optimizers, in its tables' order (fixed: the registry may grow, the study does not). */
export const STUDY_OPTIMIZERS = ['sgd', 'rmsprop', 'adagrad', 'adadelta', 'adam', 'adamax', 'nadam'] as const;
export const STUDY_MODELS = ['fcnn', 'scnn', 'bcnn', 'mcnn', 'vae1', 'vae2'] as const;
export const STUDY_EPOCHS = 50;

const row = (values: readonly number[]): Readonly<Record<string, number>> =>
  Object.fromEntries(STUDY_OPTIMIZERS.map((o, i) => [o, values[i]!]));

export const STUDY_RESULTS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  fcnn: row([84.64, 89.63, 80.95, 74.04, 88.65, 89.74, 89.28]),
  scnn: row([88.59, 91.27, 84.27, 78.17, 91.57, 91.93, 91.36]),
  bcnn: row([87.74, 90.97, 82.32, 73.24, 91.86, 91.36, 91.09]),
  mcnn: row([91.39, 93.55, 88.76, 81.5, 93.67, 93.87, 93.81]),
  vae1: row([25.46, 23.56, 26.66, 37.61, 24.15, 24.6, 23.45]),
  vae2: row([97.39, 23.03, 25.99, 31.94, 23.12, 22.83, 67.98]),
};

/** Data sets of Fashion-MNIST's images (the full set, and the tests' fixture drawn from it). */
const FASHION_MNIST_IMAGES: ReadonlySet<string> = new Set(['fashion-mnist', 'fashion-mini']);

/**
 * The study's value for a model and optimizer (names case-insensitive) trained on `dataset`, or null when it
 * has none: the study trained on Fashion-MNIST, so a run on any other data set has no reference.
 */
export const studyValue = (model: string, optimizer: string, dataset: string): number | null =>
  FASHION_MNIST_IMAGES.has(dataset.toLowerCase()) ? (STUDY_RESULTS[model.toLowerCase()]?.[optimizer.toLowerCase()] ?? null) : null;


const rank = (list: readonly string[], name: string): number => {
  const i = list.indexOf(name.toLowerCase());
  return i < 0 ? list.length : i;
};

/** The study's order (its tables' columns and sections), unknown names after it, alphabetically. */
export const compareByStudyOrder =
  (list: readonly string[]) =>
  (a: string, b: string): number =>
    rank(list, a) - rank(list, b) || (a < b ? -1 : a > b ? 1 : 0);

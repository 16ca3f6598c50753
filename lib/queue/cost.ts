/**
 * How long a run should take, to give the queue the longest runs first (LPT: it keeps the makespan of
 * independent runs within 4/3 of the best possible), and for the scale-out simulation.
 */
import type { RunSpec } from '../config/spec.js';

/**
 * Seconds per training step at batch 200 on the native backend, 2 threads, measured by `npm run bench`
 * on the project's 2-core machine (see docs/scale-out.md). Only their ratios matter to the queue's order.
 */
export const STEP_SECONDS: Readonly<Record<string, number>> = {
  fcnn: 0.017,
  scnn: 0.041,
  bcnn: 0.099,
  mcnn: 0.24,
  vae1: 0.089,
  vae2: 0.741,
};

/** Fashion-MNIST's training images, when a spec takes them all. */
const TRAIN_IMAGES = 60_000;

/** A model the table does not know (a user's) is taken to cost as much as the dearest one known. */
const UNKNOWN_STEP = Math.max(...Object.values(STEP_SECONDS));

export const runSteps = (spec: RunSpec, trainImages = TRAIN_IMAGES): number => {
  const images = Math.min(spec.subset ?? Infinity, trainImages - (spec.holdout ?? 0));
  return spec.epochs * Math.ceil(images / spec.batchSize);
};

/** Estimated seconds to train `spec` (per-step time scaled by batch size; evaluation ignored). */
export const estimateRunSeconds = (spec: RunSpec, stepSeconds: Readonly<Record<string, number>> = STEP_SECONDS, trainImages = TRAIN_IMAGES): number =>
  runSteps(spec, trainImages) * (stepSeconds[spec.model] ?? UNKNOWN_STEP) * (spec.batchSize / 200);

/** BullMQ's lowest priority; 1 is its highest. */
const LOWEST = 2_097_151;

/**
 * The job priority that makes the queue hand out longer runs first: longer estimate, smaller number.
 * Runs of equal estimate keep the order they were submitted in.
 */
export const queuePriority = (spec: RunSpec): number => Math.max(1, Math.min(LOWEST, LOWEST - Math.round(estimateRunSeconds(spec))));

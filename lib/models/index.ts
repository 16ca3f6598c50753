// optbench/models: the study's six models, registries of models as values, seeded layers and dropout,
// and the weight helpers a training loop of one's own needs.
export type { BuiltClassifier, BuiltModel, BuiltVae, ModelDef } from './types.js';
export { fcnn, scnn, bcnn, mcnn, CLASSIFIERS } from './classifiers.js';
export { vae1, vae2, VAES, vaeDef, buildVae, type VaeShape } from './vae.js';
export { SeededDropout, seededDropout, dropoutScope, type DropoutScope, type SeededDropoutArgs } from './dropout.js';
export { dense, conv2d, conv2dTranspose, maxPool, batchNorm, type Activation, type ConvArgs, type DenseArgs } from './layers.js';
export { MODELS, BUILT_IN_MODELS, modelRegistry, modelInfo, type ModelInfo, type ModelRegistry } from './registry.js';
export { modelWeights, trainableWeights, trainableVariables, nonTrainableWeights, countParameters, disposeModel } from './weights.js';
export { checkFeeds, classesFor, type DataShape } from './feeds.js';

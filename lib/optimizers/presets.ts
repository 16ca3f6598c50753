import { type OptimizerName, type ParamValue, type StudyOptimizerName } from './params.js';
import type { RuleId } from './formulas.js';
import { modernEntries } from './modern-presets.js';

/**
 * "Stock defaults" per library (see spec/keras-optimizers.md). The study ran tf.keras 2.x, so that is the
 * default preset; the others let a user ask what the ranking would have been under another library's defaults.
 * `modern` is today's practice: PyTorch's defaults, SGD with momentum 0.9, and the optimizers beyond the
 * study at their reference implementations' defaults (modern-presets.ts), which every preset shares.
 * Every value carries where it comes from, and `optbench list --json` prints both.
 */
export const PRESET_NAMES = ['tfkeras2', 'keras231', 'torch', 'paper', 'modern'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export const DEFAULT_PRESET: PresetName = 'tfkeras2';

type Sourced = readonly [value: ParamValue, source: string];
export interface PresetEntry {
  readonly rule: RuleId;
  readonly params: Readonly<Record<string, Sourced>>;
}

const TFK = (file: string) => `tf.keras 2.2 optimizer_v2/${file}.py default`;
const K231 = 'Keras 2.3.1 keras/optimizers.py default';
const K231_EPS = 'Keras 2.3.1 default epsilon=None -> K.epsilon() = 1e-7';
const torch = (cls: string) => `torch.optim.${cls} default (PyTorch 2.x)`;
const HINTON = 'Hinton, Coursera NN lecture 6e (2012)';
const KB = 'Kingma & Ba 2015';

const tfkeras2: Record<StudyOptimizerName, PresetEntry> = {
  sgd: {
    rule: 'sgd',
    params: {
      lr: [0.01, TFK('gradient_descent')],
      momentum: [0, TFK('gradient_descent')],
      nesterov: [false, TFK('gradient_descent')],
    },
  },
  rmsprop: {
    rule: 'rmsprop/tfkeras',
    params: {
      lr: [1e-3, TFK('rmsprop')],
      rho: [0.9, TFK('rmsprop')],
      momentum: [0, TFK('rmsprop')],
      eps: [1e-7, TFK('rmsprop')],
      centered: [false, TFK('rmsprop')],
    },
  },
  adagrad: {
    rule: 'adagrad',
    params: {
      lr: [1e-3, TFK('adagrad')],
      initialAccumulator: [0.1, `${TFK('adagrad')} (initial_accumulator_value)`],
      eps: [1e-7, TFK('adagrad')],
    },
  },
  adadelta: {
    rule: 'adadelta',
    params: {
      lr: [1e-3, TFK('adadelta')],
      rho: [0.95, TFK('adadelta')],
      eps: [1e-7, TFK('adadelta')],
    },
  },
  adam: {
    rule: 'adam/epsilon-hat',
    params: {
      lr: [1e-3, TFK('adam')],
      beta1: [0.9, TFK('adam')],
      beta2: [0.999, TFK('adam')],
      eps: [1e-7, `${TFK('adam')} ("epsilon hat")`],
    },
  },
  adamax: {
    rule: 'adamax',
    params: {
      lr: [1e-3, TFK('adamax')],
      beta1: [0.9, TFK('adamax')],
      beta2: [0.999, TFK('adamax')],
      eps: [1e-7, TFK('adamax')],
    },
  },
  nadam: {
    rule: 'nadam',
    params: {
      lr: [1e-3, TFK('nadam')],
      beta1: [0.9, TFK('nadam')],
      beta2: [0.999, TFK('nadam')],
      eps: [1e-7, TFK('nadam')],
      scheduleDecay: [0.004, `${TFK('nadam')} (fixed 0.96^(0.004 t) schedule)`],
    },
  },
};

/** Standalone Keras 2.3.1 has no momentum/centered for RMSprop, so they are absent (not 0) in this preset. */
const keras231: Record<StudyOptimizerName, PresetEntry> = {
  sgd: {
    rule: 'sgd',
    params: { lr: [0.01, K231], momentum: [0, K231], nesterov: [false, K231] },
  },
  rmsprop: {
    rule: 'rmsprop/tfkeras',
    params: { lr: [1e-3, K231], rho: [0.9, K231], eps: [1e-7, K231_EPS] },
  },
  adagrad: {
    rule: 'adagrad',
    params: {
      lr: [0.01, K231],
      initialAccumulator: [0, 'Keras 2.3.1 accumulators start at zeros'],
      eps: [1e-7, K231_EPS],
    },
  },
  adadelta: {
    rule: 'adadelta',
    params: { lr: [1.0, K231], rho: [0.95, K231], eps: [1e-7, K231_EPS] },
  },
  adam: {
    rule: 'adam/epsilon-hat',
    params: { lr: [1e-3, K231], beta1: [0.9, K231], beta2: [0.999, K231], eps: [1e-7, K231_EPS] },
  },
  adamax: {
    rule: 'adamax',
    params: { lr: [2e-3, K231], beta1: [0.9, K231], beta2: [0.999, K231], eps: [1e-7, K231_EPS] },
  },
  nadam: {
    rule: 'nadam',
    params: {
      lr: [2e-3, K231],
      beta1: [0.9, K231],
      beta2: [0.999, K231],
      eps: [1e-7, K231_EPS],
      scheduleDecay: [0.004, `${K231} (schedule_decay)`],
    },
  },
};

const torchPreset: Record<StudyOptimizerName, PresetEntry> = {
  sgd: {
    // torch.optim.SGD puts lr outside the momentum buffer: the same as tf.keras for a constant lr, not under a schedule.
    rule: 'sgd/torch',
    params: {
      lr: [1e-3, torch('SGD')],
      momentum: [0, torch('SGD')],
      nesterov: [false, torch('SGD')],
    },
  },
  rmsprop: {
    rule: 'rmsprop/torch',
    params: {
      lr: [1e-2, torch('RMSprop')],
      rho: [0.99, `${torch('RMSprop')} (alpha)`],
      momentum: [0, torch('RMSprop')],
      eps: [1e-8, torch('RMSprop')],
      centered: [false, torch('RMSprop')],
    },
  },
  adagrad: {
    rule: 'adagrad',
    params: {
      lr: [1e-2, torch('Adagrad')],
      initialAccumulator: [0, `${torch('Adagrad')} (initial_accumulator_value)`],
      eps: [1e-10, torch('Adagrad')],
    },
  },
  adadelta: {
    rule: 'adadelta',
    params: { lr: [1.0, torch('Adadelta')], rho: [0.9, torch('Adadelta')], eps: [1e-6, torch('Adadelta')] },
  },
  adam: {
    rule: 'adam/bias-corrected',
    params: {
      lr: [1e-3, torch('Adam')],
      beta1: [0.9, `${torch('Adam')} (betas[0])`],
      beta2: [0.999, `${torch('Adam')} (betas[1])`],
      eps: [1e-8, torch('Adam')],
    },
  },
  adamax: {
    rule: 'adamax/torch',
    params: {
      lr: [2e-3, torch('Adamax')],
      beta1: [0.9, `${torch('Adamax')} (betas[0])`],
      beta2: [0.999, `${torch('Adamax')} (betas[1])`],
      eps: [1e-8, torch('Adamax')],
    },
  },
  nadam: {
    rule: 'nadam',
    params: {
      lr: [2e-3, torch('NAdam')],
      beta1: [0.9, `${torch('NAdam')} (betas[0])`],
      beta2: [0.999, `${torch('NAdam')} (betas[1])`],
      eps: [1e-8, torch('NAdam')],
      scheduleDecay: [0.004, `${torch('NAdam')} (momentum_decay)`],
    },
  },
};

/** The papers leave some values open; each fallback says so in its source text. */
const paper: Record<StudyOptimizerName, PresetEntry> = {
  sgd: {
    rule: 'sgd',
    params: {
      lr: [0.01, 'no paper default (Robbins & Monro 1951 give none); fallback: tf.keras 2.x / Keras 2.3.1 value'],
      momentum: [0, 'plain SGD as in Robbins & Monro 1951 (no momentum)'],
      nesterov: [false, 'plain SGD as in Robbins & Monro 1951 (no momentum)'],
    },
  },
  rmsprop: {
    rule: 'rmsprop/tfkeras',
    params: {
      lr: [1e-3, `no value in ${HINTON}; fallback: tf.keras 2.x default`],
      rho: [0.9, `${HINTON}: MeanSquare = 0.9 MeanSquare + 0.1 g^2`],
      momentum: [0, `${HINTON}: no momentum`],
      eps: [1e-7, `no epsilon in ${HINTON}; fallback: tf.keras 2.x default, to avoid 0/0`],
      centered: [false, `${HINTON}: uncentered`],
    },
  },
  adagrad: {
    rule: 'adagrad',
    params: {
      lr: [1e-2, 'no default lr in Duchi, Hazan & Singer 2011; fallback: PyTorch / Keras 2.3.1 value'],
      initialAccumulator: [0, 'Duchi, Hazan & Singer 2011: G starts at 0'],
      eps: [1e-10, 'Duchi, Hazan & Singer 2011: delta >= 0 added outside the root, no value; fallback: PyTorch value'],
    },
  },
  adadelta: {
    rule: 'adadelta',
    params: {
      lr: [1.0, 'Zeiler 2012 has no learning rate (equivalent to lr 1.0)'],
      rho: [0.95, 'Zeiler 2012 sec. 4 (MNIST experiments)'],
      eps: [1e-6, 'Zeiler 2012 sec. 4 (MNIST experiments)'],
    },
  },
  adam: {
    rule: 'adam/bias-corrected',
    params: {
      lr: [1e-3, `${KB} Algorithm 1 (alpha)`],
      beta1: [0.9, `${KB} Algorithm 1`],
      beta2: [0.999, `${KB} Algorithm 1`],
      eps: [1e-8, `${KB} Algorithm 1`],
    },
  },
  adamax: {
    rule: 'adamax',
    params: {
      lr: [2e-3, `${KB} sec. 7.1 (alpha)`],
      beta1: [0.9, `${KB} sec. 7.1`],
      beta2: [0.999, `${KB} sec. 7.1`],
      eps: [1e-8, `no epsilon in ${KB} Algorithm 2; fallback: Algorithm 1's 1e-8, to avoid 0/0 while u = 0`],
    },
  },
  nadam: {
    rule: 'nadam',
    params: {
      lr: [2e-3, 'no default lr in Dozat 2016; fallback: Keras 2.3.1 / PyTorch value'],
      beta1: [0.9, 'no default in Dozat 2016; fallback: Keras 2.3.1 / PyTorch value'],
      beta2: [0.999, 'no default in Dozat 2016; fallback: Keras 2.3.1 / PyTorch value'],
      eps: [1e-8, 'no default in Dozat 2016; fallback: PyTorch value'],
      scheduleDecay: [0.004, 'Dozat 2016: mu_t = beta1 (1 - 0.5 * 0.96^(t/250))'],
    },
  },
};

/** Today's practice for the seven: PyTorch's defaults and rules, with SGD's momentum on. */
const modern: Record<StudyOptimizerName, PresetEntry> = {
  ...torchPreset,
  sgd: {
    rule: 'sgd/torch',
    params: {
      lr: [0.01, "tf.keras 2.x / Keras 2.3.1 SGD default (the study's), so that modern's SGD differs from the study's by its momentum"],
      momentum: [0.9, 'torchvision references/classification/train.py default (--momentum 0.9)'],
      nesterov: [false, `${torch('SGD')} (nesterov)`],
    },
  },
};

export const PRESETS: Record<PresetName, Record<OptimizerName, PresetEntry>> = {
  tfkeras2: { ...tfkeras2, ...modernEntries('tfkeras2') },
  keras231: { ...keras231, ...modernEntries('keras231') },
  torch: { ...torchPreset, ...modernEntries('torch') },
  paper: { ...paper, ...modernEntries('paper') },
  modern: { ...modern, ...modernEntries('modern') },
};

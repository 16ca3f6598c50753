import type { ModernOptimizerName, ParamValue } from './params.js';
import type { RuleId } from './formulas.js';
import type { PresetEntry, PresetName } from './presets.js';

/**
 * The defaults of the optimizers beyond the study, with their sources: each paper's reference
 * implementation (the library its authors, or PyTorch, publish). The study's libraries had none of them, so
 * every preset gives them the same values, and each source says so under the presets where the library
 * has no such optimizer. Only the rule can differ: under `paper`, Schedule-Free AdamW takes its paper's
 * Algorithm 1 (the reference's AdamWScheduleFreePaper) instead of the reference's current form.
 */

type Sourced = readonly [value: ParamValue, source: string];

interface Reference {
  /** How the sources name it: 'AdamW', 'Muon'. */
  readonly title: string;
  /** The presets whose library has it, with exactly these defaults (no note is added there). */
  readonly native: readonly PresetName[];
  readonly rule: RuleId;
  readonly params: Readonly<Record<string, Sourced>>;
}

const TORCH_ADAMW = 'torch.optim.AdamW default (PyTorch 2.x)';
const TORCH_RADAM = 'torch.optim.RAdam default (PyTorch 2.x; LiyuanLucasLiu/RAdam radam.py has the same)';
const LION = 'lucidrains/lion-pytorch default';
const ADABELIEF = 'adabelief-pytorch 0.2.0 default (juntang-zhuang/Adabelief-Optimizer)';
const SF = 'schedulefree 1.3 AdamWScheduleFree default (facebookresearch/schedule_free)';
const MUON = 'KellerJordan/Muon SingleDeviceMuonWithAuxAdam default';

const REFERENCES: Record<ModernOptimizerName, Reference> = {
  adamw: {
    title: 'AdamW',
    native: ['torch', 'modern'],
    rule: 'adamw',
    params: {
      lr: [1e-3, TORCH_ADAMW],
      beta1: [0.9, `${TORCH_ADAMW} (betas[0])`],
      beta2: [0.999, `${TORCH_ADAMW} (betas[1])`],
      eps: [1e-8, TORCH_ADAMW],
      weightDecay: [1e-2, `${TORCH_ADAMW} (weight_decay; times lr, so Loshchilov & Hutter's lambda is lr*weightDecay)`],
    },
  },
  radam: {
    title: 'RAdam',
    native: ['torch', 'modern'],
    rule: 'radam',
    params: {
      lr: [1e-3, TORCH_RADAM],
      beta1: [0.9, `${TORCH_RADAM} (betas[0])`],
      beta2: [0.999, `${TORCH_RADAM} (betas[1])`],
      eps: [1e-8, TORCH_RADAM],
      weightDecay: [0, `${TORCH_RADAM} (weight_decay; applied decoupled, decoupled_weight_decay=True)`],
    },
  },
  lion: {
    title: 'Lion',
    native: ['modern'],
    rule: 'lion',
    params: {
      lr: [1e-4, `${LION}; Chen et al. 2023 advise an lr 3-10x below AdamW's`],
      beta1: [0.9, `${LION} (betas[0]); Chen et al. 2023's default beta1`],
      beta2: [0.99, `${LION} (betas[1]); Chen et al. 2023's default beta2`],
      weightDecay: [0, `${LION} (weight_decay, decoupled; Chen et al. 2023 advise 3-10x AdamW's)`],
    },
  },
  adabelief: {
    title: 'AdaBelief',
    native: ['modern'],
    rule: 'adabelief',
    params: {
      lr: [1e-3, ADABELIEF],
      beta1: [0.9, `${ADABELIEF} (betas[0])`],
      beta2: [0.999, `${ADABELIEF} (betas[1])`],
      eps: [1e-16, `${ADABELIEF} (1e-8 up to 0.0.5); added to s each step, inside the root, as in Zhuang et al. 2020 Alg. 2`],
      weightDecay: [0, `${ADABELIEF} (weight_decay, with weight_decouple=True and fixed_decay=False: decoupled, times lr)`],
      rectify: [true, `${ADABELIEF} (rectify=True with degenerated_to_sgd=True; false up to 0.0.5)`],
    },
  },
  'adamw-schedulefree': {
    title: 'Schedule-Free AdamW',
    native: ['modern'],
    rule: 'adamw-schedulefree',
    params: {
      lr: [0.0025, SF],
      beta1: [0.9, `${SF} (betas[0])`],
      beta2: [0.999, `${SF} (betas[1])`],
      eps: [1e-8, SF],
      weightDecay: [0, `${SF} (weight_decay, added to the normalised gradient at y)`],
      r: [0, `${SF} (r: polynomial weighting of the average)`],
      weightLrPower: [2, `${SF} (weight_lr_power: the average weighs step t by lr_max^2)`],
    },
  },
  muon: {
    title: 'Muon',
    native: ['modern'],
    rule: 'muon',
    params: {
      lr: [0.02, `${MUON} (lr of the Muon group)`],
      momentum: [0.95, `${MUON} (momentum of the Muon group)`],
      nesterov: [true, 'KellerJordan/Muon muon_update default (nesterov=True)'],
      nsSteps: [5, 'KellerJordan/Muon muon_update default (ns_steps=5)'],
      weightDecay: [0, `${MUON} (weight_decay of both groups)`],
      adamLr: [3e-4, `${MUON} (lr of the auxiliary Adam group)`],
      beta1: [0.9, `${MUON} (betas[0] of the auxiliary Adam group)`],
      beta2: [0.95, `${MUON} (betas[1] of the auxiliary Adam group)`],
      eps: [1e-10, `${MUON} (eps of the auxiliary Adam group)`],
    },
  },
};

const LIBRARY: Record<PresetName, string> = {
  tfkeras2: 'tf.keras 2.2',
  keras231: 'Keras 2.3.1',
  torch: 'PyTorch 2.x',
  paper: 'the paper preset',
  modern: 'the modern preset',
};

const note = (preset: PresetName, ref: Reference): string =>
  ref.native.includes(preset)
    ? ''
    : preset === 'paper'
      ? "; the reference implementation's value under every preset"
      : `; ${LIBRARY[preset]} has no ${ref.title}: the reference's value under every preset`;

/** The entries of the modern optimizers under one preset. */
export const modernEntries = (preset: PresetName): Record<ModernOptimizerName, PresetEntry> =>
  Object.fromEntries(
    Object.entries(REFERENCES).map(([name, ref]) => {
      const rule: RuleId = preset === 'paper' && ref.rule === 'adamw-schedulefree' ? 'adamw-schedulefree/paper' : ref.rule;
      const paperForm = rule !== ref.rule ? " (the paper's Algorithm 1 form under this preset)" : '';
      const params = Object.fromEntries(
        Object.entries(ref.params).map(([k, [v, src]]) => [k, [v, `${src}${note(preset, ref)}${paperForm}`] as const]),
      );
      return [name, { rule, params }];
    }),
  ) as Record<ModernOptimizerName, PresetEntry>;

import { OPTIMIZER_NAMES, isOptimizerName, type ParamValue } from './params.js';
import { RULE_FORMULAS, registeredRule, type RegisteredRuleId, type RuleId } from './formulas.js';
import { PRESET_NAMES, PRESETS, type PresetName } from './presets.js';
import { BUILT_IN_OPTIMIZERS, registeredDefaults, registeredOptimizer, registeredOptimizerNames, type OptimizerRegistry } from './registry.js';

// What `optbench list` shows and the CLI parser accepts: the presets and the registered optimizers as plain data.

export interface OptimizerListing {
  /** A built-in's name, or a registered optimizer's (listed after the built-ins under every preset). */
  readonly name: string;
  readonly preset: PresetName;
  readonly defaults: Record<string, ParamValue>;
  readonly sources: Record<string, string>;
  readonly rule: RuleId | RegisteredRuleId;
  readonly formula: string;
}

const SAME_UNDER_EVERY_PRESET = 'registered optimizer: the same value under every preset';

const registeredListing = (name: string, preset: PresetName, reg: OptimizerRegistry): OptimizerListing => {
  const def = registeredOptimizer(name, reg)!;
  const defaults = registeredDefaults(name, reg)!;
  return {
    name,
    preset,
    defaults,
    sources: Object.fromEntries(
      Object.keys(defaults).map((k) => {
        const src = def.sources?.[k];
        return [k, src !== undefined ? `${src} (${SAME_UNDER_EVERY_PRESET})` : `given with its definition (${SAME_UNDER_EVERY_PRESET})`];
      }),
    ),
    rule: registeredRule(name),
    formula: def.description ?? `registered optimizer '${name}' (no description given)`,
  };
};

/** One row per optimizer per preset, as plain data (what `optbench list --json` prints). */
export const listOptimizers = (reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): OptimizerListing[] =>
  PRESET_NAMES.flatMap((preset) => [
    ...OPTIMIZER_NAMES.map((name) => {
      const entry = PRESETS[preset][name];
      const keys = Object.keys(entry.params);
      return {
        name,
        preset,
        defaults: Object.fromEntries(keys.map((k) => [k, entry.params[k]![0]])),
        sources: Object.fromEntries(keys.map((k) => [k, entry.params[k]![1]])),
        rule: entry.rule,
        formula: RULE_FORMULAS[entry.rule],
      };
    }),
    ...registeredOptimizerNames(reg).map((name) => registeredListing(name, preset, reg)),
  ]);

/**
 * Every hyperparameter name an optimizer has under any preset (what the CLI parser accepts); a registered
 * optimizer's defaults' names; none for an unknown name.
 */
export const paramNamesOf = (name: string, reg: OptimizerRegistry = BUILT_IN_OPTIMIZERS): string[] =>
  isOptimizerName(name)
    ? [...new Set(PRESET_NAMES.flatMap((p) => Object.keys(PRESETS[p][name].params)))]
    : Object.keys(registeredDefaults(name, reg) ?? {});

/**
 * The update rules' ids and their formulas (spec/keras-optimizers.md). A preset names one rule per optimizer
 * (presets.ts), createOptimizer builds it (create.ts, rules.ts), and `optbench list` prints the formula beside it.
 */

/** Update-rule variants. Where two libraries' rules are algebraically equal for a constant lr, one id serves both. */
export const RULE_IDS = [
  'sgd',
  'rmsprop/tfkeras',
  'rmsprop/torch',
  'adagrad',
  'adadelta',
  'adam/epsilon-hat',
  'adam/bias-corrected',
  'adamax',
  'adamax/torch',
  'nadam',
] as const;
export type RuleId = (typeof RULE_IDS)[number];
/** The rule of a registered optimizer (lib/optimizers/registry.ts): its own `create`, named after it. */
export type RegisteredRuleId = `registered:${string}`;
export const registeredRule = (name: string): RegisteredRuleId => `registered:${name}`;

export const RULE_FORMULAS: Record<RuleId, string> = {
  sgd:
    'momentum 0: theta -= lr*g. Else v = momentum*v - lr*g; theta += v, or with nesterov theta += momentum*v - lr*g ' +
    '(tf.keras 2.x; equal to torch.optim.SGD with dampening 0 for a constant lr)',
  'rmsprop/tfkeras':
    'ms = rho*ms + (1-rho)*g^2 (centered: mg = rho*mg + (1-rho)*g, d = ms - mg^2, else d = ms). momentum 0: ' +
    'theta -= lr*g/(sqrt(d)+eps) (eps outside the root). momentum > 0 (TF fused kernel ApplyRMSProp): ' +
    'mom = momentum*mom + lr*g/sqrt(d+eps); theta -= mom (eps inside the root)',
  'rmsprop/torch':
    'ms = alpha*ms + (1-alpha)*g^2 (centered: mg likewise, d = ms - mg^2, else d = ms); a = sqrt(d)+eps; ' +
    'momentum 0: theta -= lr*g/a; else buf = momentum*buf + g/a; theta -= lr*buf (torch.optim.RMSprop)',
  adagrad: 'acc += g^2 (acc starts at initialAccumulator); theta -= lr*g/(sqrt(acc)+eps) (eps outside the root)',
  adadelta:
    'a = rho*a + (1-rho)*g^2; u = sqrt(au+eps)/sqrt(a+eps)*g (updated a); theta -= lr*u; au = rho*au + (1-rho)*u^2',
  'adam/epsilon-hat':
    'm = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; alpha_t = lr*sqrt(1-b2^t)/(1-b1^t); theta -= alpha_t*m/(sqrt(v)+eps)',
  'adam/bias-corrected':
    'm = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; theta -= lr*(m/(1-b1^t))/(sqrt(v/(1-b2^t))+eps)',
  adamax: 'm = b1*m + (1-b1)*g; u = max(b2*u, |g|); theta -= lr/(1-b1^t)*m/(u+eps)',
  'adamax/torch': 'm = b1*m + (1-b1)*g; u = max(b2*u, |g|+eps); theta -= lr/(1-b1^t)*m/u (torch.optim.Adamax)',
  nadam:
    'mu_t = b1*(1-0.5*0.96^(scheduleDecay*t)); P_t = mu_1...mu_t; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; ' +
    'theta -= lr*((1-mu_t)*g/(1-P_t) + mu_{t+1}*m/(1-P_t*mu_{t+1}))/(sqrt(v/(1-b2^t))+eps)',
};

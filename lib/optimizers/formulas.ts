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
  'sgd/torch',
  'adamw',
  'radam',
  'lion',
  'adabelief',
  'adamw-schedulefree',
  'adamw-schedulefree/paper',
  'muon',
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
  'sgd/torch':
    'momentum 0: theta -= lr*g. Else buf = momentum*buf + g; theta -= lr*buf, or with nesterov theta -= lr*(g + momentum*buf) ' +
    '(torch.optim.SGD, dampening 0: lr outside the buffer, which differs from tf.keras under a schedule)',
  adamw:
    'theta *= 1 - lr*weightDecay; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; theta -= lr/(1-b1^t)*m/(sqrt(v/(1-b2^t))+eps) ' +
    '(Loshchilov & Hutter 2019 Alg. 2 as torch.optim.AdamW)',
  radam:
    'theta *= 1 - lr*weightDecay; m, v as Adam; rho_inf = 2/(1-b2)-1, rho_t = rho_inf - 2t*b2^t/(1-b2^t); rho_t > 5: ' +
    'r_t = sqrt((rho_t-4)(rho_t-2)rho_inf/((rho_inf-4)(rho_inf-2)rho_t)), theta -= lr*r_t*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(v)+eps); ' +
    'else theta -= lr/(1-b1^t)*m (Liu et al. 2020 as torch.optim.RAdam)',
  lion:
    'theta *= 1 - lr*weightDecay; theta -= lr*sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g (Chen et al. 2023 Alg. 2 as lucidrains/lion-pytorch)',
  adabelief:
    'theta *= 1 - lr*weightDecay; m = b1*m + (1-b1)*g; s = b2*s + (1-b2)*(g-m)^2 + eps; rectify false: ' +
    'theta -= lr/(1-b1^t)*m/(sqrt(s)/sqrt(1-b2^t)+eps); rectify (RAdam\'s rho_t, N_sma >= 5): theta -= lr*r_t*sqrt(1-b2^t)/(1-b1^t)*m/(sqrt(s)+eps), ' +
    'else theta -= lr/(1-b1^t)*m (Zhuang et al. 2020 as adabelief-pytorch 0.2.0)',
  'adamw-schedulefree':
    'v = b2*v + (1-b2)*g^2 (g at y); n = g/(sqrt(v/(1-b2^t))+eps) + weightDecay*y; z -= lr_t*n; x = (1-c)*x + c*z; ' +
    'y = (1-b1)*z + b1*x; c = w_t/sum(w), w_t = t^r*max(lr_1..lr_t)^weightLrPower; evaluate at x ' +
    '(Defazio et al. 2024 as schedulefree 1.3 AdamWScheduleFree)',
  'adamw-schedulefree/paper':
    'gamma_t = lr_t*sqrt(1-b2^t); v = b2*v + (1-b2)*g^2 (g at y); z -= gamma_t*(g/(sqrt(v)+eps) + weightDecay*y); ' +
    'x = (1-c)*x + c*z; y = (1-b1)*z + b1*x; c = w_t/sum(w), w_t = t^r*max(gamma_1..gamma_t)^weightLrPower; evaluate at x ' +
    '(Defazio et al. 2024 Alg. 1 = schedulefree AdamWScheduleFreePaper)',
  muon:
    'rank >= 2: m = momentum*m + (1-momentum)*g; u = nesterov ? (1-momentum)*g + momentum*m : m; theta *= 1 - lr*weightDecay; ' +
    'theta -= lr*scale*NS5(u as [rows, cols]), NS5: nsSteps of X = 3.4445X - 4.775(XX^T)X + 2.0315(XX^T)^2X from X = U/(|U|_F+1e-7); ' +
    'scale = max(1, torch size(-2)/size(-1))^0.5. Rank < 2: AdamW with adamLr, beta1, beta2, eps (KellerJordan/Muon)',
};

/**
 * Independent float64 references of the optimizers beyond the study, written from each paper's algorithm
 * box, one weight at a time, in plain JavaScript numbers; where the reference implementation differs from
 * the box (an eps, a threshold, a bias correction), the comment says so and the reference follows the
 * implementation whose defaults optbench takes. `lr(t)` is the scheduled learning rate at step t.
 */
import type { ParamValue } from '../../lib/optimizers/index.js';
import type { Ref } from './trajectories.js';

type P = Record<string, ParamValue>;
const n = (p: P, k: string): number => p[k] as number;
export type Rate = (t: number) => number;
const zeros = (size: number) => new Array<number>(size).fill(0);

/** RAdam's rho_t and r_t (Liu et al. 2020, eq. 6 and Algorithm 2). */
const rect = (b2: number, t: number) => {
  const rhoInf = 2 / (1 - b2) - 1;
  const rhoT = rhoInf - (2 * t * b2 ** t) / (1 - b2 ** t);
  const r = Math.sqrt(((rhoT - 4) * (rhoT - 2) * rhoInf) / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
  return { rhoT, r };
};

export const modernRefs: Record<string, (p: P, size: number, lr: Rate) => Ref> = {
  // Loshchilov & Hutter 2019, Algorithm 2 (AdamW), with eta_t alpha = lr(t) and lambda = lr(t) * weightDecay
  // (torch.optim.AdamW's parametrisation): theta_t = theta_{t-1} - eta_t (alpha m^/(sqrt(v^)+eps) + lambda theta_{t-1}).
  adamw: (p, size, lr) => {
    const [m, v] = [zeros(size), zeros(size)];
    const [b1, b2, eps, wd] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'eps'), n(p, 'weightDecay')];
    return (th, g, t) => {
      for (let i = 0; i < size; i++) {
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** t);
        const vHat = v[i]! / (1 - b2 ** t);
        th[i] = th[i]! - lr(t) * (mHat / (Math.sqrt(vHat) + eps) + wd * th[i]!);
      }
    };
  },
  // Liu et al. 2020, Algorithm 2, with torch.optim.RAdam's threshold rho_t > 5 (the paper: > 4) and its eps
  // in the adaptive term l_t = sqrt(1-b2^t)/(sqrt(v)+eps) (the paper: sqrt((1-b2^t)/v)); decoupled decay.
  radam: (p, size, lr) => {
    const [m, v] = [zeros(size), zeros(size)];
    const [b1, b2, eps, wd] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'eps'), n(p, 'weightDecay')];
    return (th, g, t) => {
      const { rhoT, r } = rect(b2, t);
      for (let i = 0; i < size; i++) {
        th[i] = th[i]! * (1 - lr(t) * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        const mHat = m[i]! / (1 - b1 ** t);
        if (rhoT > 5) th[i] = th[i]! - lr(t) * r * mHat * (Math.sqrt(1 - b2 ** t) / (Math.sqrt(v[i]!) + eps));
        else th[i] = th[i]! - lr(t) * mHat;
      }
    };
  },
  // Chen et al. 2023, Algorithm 2: c = b1 m + (1-b1) g; theta -= eta (sign(c) + lambda theta); m = b2 m + (1-b2) g.
  lion: (p, size, lr) => {
    const m = zeros(size);
    const [b1, b2, wd] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'weightDecay')];
    return (th, g, t) => {
      for (let i = 0; i < size; i++) {
        const c = b1 * m[i]! + (1 - b1) * g[i]!;
        th[i] = th[i]! - lr(t) * (Math.sign(c) + wd * th[i]!);
        m[i] = b2 * m[i]! + (1 - b2) * g[i]!;
      }
    };
  },
  // Zhuang et al. 2020, Algorithm 2 (s_t = b2 s + (1-b2)(g-m)^2 + eps; theta -= alpha m^/(sqrt(s^)+eps)), and with
  // rectify adabelief-pytorch 0.2.0's RAdam form: N_sma >= 5 rectified on sqrt(s)+eps, else lr m^.
  adabelief: (p, size, lr) => {
    const [m, s] = [zeros(size), zeros(size)];
    const [b1, b2, eps, wd] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'eps'), n(p, 'weightDecay')];
    return (th, g, t) => {
      const { rhoT, r } = rect(b2, t);
      for (let i = 0; i < size; i++) {
        th[i] = th[i]! * (1 - lr(t) * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        s[i] = b2 * s[i]! + (1 - b2) * (g[i]! - m[i]!) ** 2 + eps;
        const mHat = m[i]! / (1 - b1 ** t);
        if (p.rectify !== true) th[i] = th[i]! - (lr(t) * mHat) / (Math.sqrt(s[i]! / (1 - b2 ** t)) + eps);
        else if (rhoT >= 5) th[i] = th[i]! - (lr(t) * r * Math.sqrt(1 - b2 ** t) * mHat) / (Math.sqrt(s[i]!) + eps);
        else th[i] = th[i]! - lr(t) * mHat;
      }
    };
  },
  // Defazio et al. 2024, Algorithm 1 (Schedule-Free AdamW), with schedulefree 1.3's bias correction: gamma_t =
  // lr(t) and v/(1-b2^t) under the root (the paper: gamma_t = lr(t) sqrt(1-b2^t), sqrt(v)). Returns y, and x
  // through `points`.
  'adamw-schedulefree': (p, size, lr) => scheduleFree(p, size, lr, false).step,
  'adamw-schedulefree/paper': (p, size, lr) => scheduleFree(p, size, lr, true).step,
  // KellerJordan/Muon's auxiliary Adam (the path of every variable of rank < 2):
  // theta *= 1 - adamLr wd; theta -= adamLr (m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps).
  muon: (p, size, lr) => {
    const [m, v] = [zeros(size), zeros(size)];
    const [b1, b2, eps, wd] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'eps'), n(p, 'weightDecay')];
    const scale = n(p, 'adamLr') / n(p, 'lr');
    return (th, g, t) => {
      const a = lr(t) * scale;
      for (let i = 0; i < size; i++) {
        th[i] = th[i]! * (1 - a * wd);
        m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
        v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
        th[i] = th[i]! - (a * (m[i]! / (1 - b1 ** t))) / (Math.sqrt(v[i]! / (1 - b2 ** t)) + eps);
      }
    };
  },
};

/**
 * Schedule-Free AdamW on a vector that starts at theta (y = z = x = theta): `step` updates y in theta and
 * keeps z and x, which `x()` gives. paper: the paper's gamma_t; else the reference's current form.
 */
export const scheduleFree = (p: P, size: number, lr: Rate, paper: boolean) => {
  let z: number[] | undefined;
  let x: number[] | undefined;
  const v = zeros(size);
  const [b1, b2, eps, wd, r, power] = [n(p, 'beta1'), n(p, 'beta2'), n(p, 'eps'), n(p, 'weightDecay'), n(p, 'r'), n(p, 'weightLrPower')];
  let lrMax = -1;
  let sum = 0;
  const step: Ref = (th, g, t) => {
    z ??= [...th];
    x ??= [...th];
    const gamma = paper ? lr(t) * Math.sqrt(1 - b2 ** t) : lr(t);
    lrMax = Math.max(lrMax, gamma);
    const w = t ** r * lrMax ** power;
    sum += w;
    const c = w / sum;
    for (let i = 0; i < size; i++) {
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      const root = paper ? Math.sqrt(v[i]!) : Math.sqrt(v[i]! / (1 - b2 ** t));
      z[i] = z[i]! - gamma * (g[i]! / (root + eps) + wd * th[i]!);
      x[i] = (1 - c) * x[i]! + c * z[i]!;
      th[i] = (1 - b1) * z[i]! + b1 * x[i]!;
    }
  };
  return { step, x: () => [...(x ?? [])] };
};

// ---------------------------------------------------------------------------------------------------------
// Muon on matrices, in PyTorch's layout, as KellerJordan/Muon's muon.py computes it.

export type Matrix = number[][];
const matmul = (a: Matrix, b: Matrix): Matrix =>
  a.map((row) => b[0]!.map((_, j) => row.reduce((s, x, k) => s + x * b[k]![j]!, 0)));
const transpose = (a: Matrix): Matrix => a[0]!.map((_, j) => a.map((row) => row[j]!));

/** zeropower_via_newtonschulz5 in float64. */
export const newtonSchulz64 = (g: Matrix, steps: number): Matrix => {
  const [a, b, c] = [3.4445, -4.775, 2.0315];
  const tall = g.length > g[0]!.length;
  let x = tall ? transpose(g) : g.map((r) => [...r]);
  const norm = Math.sqrt(x.flat().reduce((s, v) => s + v * v, 0));
  x = x.map((r) => r.map((v) => v / (norm + 1e-7)));
  for (let k = 0; k < steps; k++) {
    const A = matmul(x, transpose(x));
    const AA = matmul(A, A);
    const B = A.map((r, i) => r.map((v, j) => b * v + c * AA[i]![j]!));
    const BX = matmul(B, x);
    x = x.map((r, i) => r.map((v, j) => a * v + BX[i]![j]!));
  }
  return tall ? transpose(x) : x;
};

/**
 * A tensor in PyTorch's layout: `shape` ([out, in] or [out, in, kh, kw]) and its elements in row-major
 * order. muon_update views a 4-D one as [out, in*kh*kw] and scales by max(1, size(-2)/size(-1))^0.5.
 */
export interface TorchTensor {
  readonly shape: readonly number[];
  data: number[];
}

/** One Muon step of one PyTorch-layout weight `w` (momentum buffer `buf`, same layout), in place. */
export const muonStep64 = (w: TorchTensor, buf: number[], grad: readonly number[], p: P, lr: number): void => {
  const beta = n(p, 'momentum');
  for (let i = 0; i < buf.length; i++) buf[i] = beta * buf[i]! + (1 - beta) * grad[i]!;
  const u = p.nesterov === true ? grad.map((g, i) => (1 - beta) * g + beta * buf[i]!) : [...buf];
  const rows = w.shape[0]!;
  const cols = u.length / rows;
  const matrix = Array.from({ length: rows }, (_, i) => u.slice(i * cols, (i + 1) * cols));
  const o = newtonSchulz64(matrix, n(p, 'nsSteps')).flat();
  const scale = Math.sqrt(Math.max(1, w.shape[w.shape.length - 2]! / w.shape[w.shape.length - 1]!));
  const wd = n(p, 'weightDecay');
  w.data = w.data.map((x, i) => x * (1 - lr * wd) - lr * scale * o[i]!);
};

/** The PyTorch-layout index of element `i` (row-major) of a TF.js kernel of `shape` ([in, out] or [kh, kw, in, out]). */
export const torchIndex = (shape: readonly number[], i: number): number => {
  if (shape.length === 2) {
    const [nIn, nOut] = shape as [number, number];
    const [a, o] = [Math.floor(i / nOut), i % nOut];
    return o * nIn + a;
  }
  const [kh, kw, nIn, nOut] = shape as [number, number, number, number];
  const o = i % nOut;
  const c = Math.floor(i / nOut) % nIn;
  const x = Math.floor(i / (nOut * nIn)) % kw;
  const y = Math.floor(i / (nOut * nIn * kw));
  return ((o * nIn + c) * kh + y) * kw + x;
};

/** PyTorch's shape of a TF.js kernel. */
export const torchShape = (shape: readonly number[]): number[] =>
  shape.length === 2 ? [shape[1]!, shape[0]!] : [shape[3]!, shape[2]!, shape[0]!, shape[1]!];

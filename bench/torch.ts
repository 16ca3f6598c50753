/**
 * The PyTorch reference for bench/step.ts: `../shared/bench/peer_torch.py` (or $OPTBENCH_TORCH_DIR) in
 * its three modes, the CPU's description, and the paired rounds that time PyTorch and native back to back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';

/** PyTorch as a user runs it: defaults, tuned as its CPU guide advises, tuned with bf16 autocast. */
export const TORCH_MODES = [
  { name: 'default', flags: [] as string[] },
  { name: 'tuned', flags: ['--tuned'] },
  { name: 'tuned-bf16', flags: ['--tuned', '--bf16'] },
] as const;
export type TorchMode = (typeof TORCH_MODES)[number]['name'];

/** The CPU's model name and the flags that decide bf16 speed, from /proc/cpuinfo. */
export const cpuInfo = (): { model: string; bf16: boolean; flags: string[] } => {
  let text = '';
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: no flags known
  }
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? 'unknown CPU';
  const all = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  const flags = ['avx2', 'avx512f', 'avx512_bf16', 'amx_bf16', 'amx_tile'].filter((f) => all.has(f));
  return { model, bf16: all.has('avx512_bf16') || all.has('amx_bf16'), flags };
};

/** The PyTorch reference's directory: peer_torch.py and torch-env.sh (which finds or makes a Python with torch). */
const TORCH_DIR = process.env['OPTBENCH_TORCH_DIR'] ?? resolve(import.meta.dirname, '..', '..', 'shared', 'bench');

/** Median ms per step of each model in PyTorch in one mode, or why it could not be timed. */
export const torchMs = (
  models: readonly string[],
  steps: number,
  flags: readonly string[],
): { ms: Record<string, number> } | { why: string } => {
  const script = join(TORCH_DIR, 'peer_torch.py');
  const env = join(TORCH_DIR, 'torch-env.sh');
  if (!existsSync(script) || !existsSync(env)) return { why: `${script} or torch-env.sh not found (set OPTBENCH_TORCH_DIR)` };
  const r = spawnSync(
    'bash',
    ['-c', 'source "$1" && torch_env || exit 3; shift; "$TORCH_PY" "$@"', 'torch', env, script, models.join(','), String(steps), ...flags],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (r.status === 3) return { why: 'torch-env.sh found no PyTorch for this machine' };
  const last = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(last) as Record<string, unknown>;
    const ms: Record<string, number> = {};
    for (const m of models) if (typeof parsed[m] === 'number') ms[m] = parsed[m];
    return { ms };
  } catch {
    return { why: `peer_torch.py ${flags.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}` };
  }
};

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const round2 = (x: number): number => Math.round(x * 100) / 100;

export interface PairedOptions {
  readonly models: readonly string[];
  readonly steps: number;
  readonly rounds: number;
  /** The PyTorch modes to time (tuned-bf16 only where the CPU has avx512_bf16 or AMX). */
  readonly torchModes: readonly TorchMode[];
  /** native's precisions to time, each against every PyTorch mode. */
  readonly precisions: readonly string[];
}

/**
 * PyTorch and native timed in alternation: each round times every model in each PyTorch mode, then on
 * native in each precision, and takes every native / PyTorch ratio within the round; the machine's speed
 * drifts by tens of percent over minutes, and a ratio within a round is fair where one taken across the
 * run is not. Prints each round and, per model and pair, the median ratio over rounds with its range.
 * Returns per model: PyTorch's and native's median ms, and each pair's median ratio and its rounds.
 */
export const pairedRounds = (
  o: PairedOptions,
  nativeMs: (model: string, precision: string) => number,
  log: (s: string) => void,
): Record<string, Record<string, unknown>> => {
  const ratios: Record<string, Record<string, number[]>> = {};
  const seen: Record<string, Record<string, number[]>> = {};
  const push = (into: Record<string, Record<string, number[]>>, model: string, key: string, v: number) =>
    ((into[model] ??= {})[key] ??= []).push(v);
  log(
    `  PyTorch (${o.torchModes.join(', ')}) vs native (${o.precisions.join(', ')}), ${o.rounds} rounds of ` +
      `(each PyTorch mode, then native), median of ${o.steps} steps each:`,
  );
  for (let r = 1; r <= o.rounds; r++) {
    const load = loadavg()[0]!.toFixed(1);
    const torch: Partial<Record<TorchMode, Record<string, number>>> = {};
    for (const mode of o.torchModes) {
      const t = torchMs(o.models, o.steps, TORCH_MODES.find((m) => m.name === mode)!.flags);
      if ('why' in t) {
        log(`  PyTorch reference (${mode}): not timed (${t.why})`);
        return {};
      }
      torch[mode] = t.ms;
    }
    const cells: string[] = [];
    for (const name of o.models) {
      const natives = o.precisions.map((p) => [p, nativeMs(name, p)] as const);
      const parts: string[] = [];
      for (const mode of o.torchModes) {
        const t = torch[mode]![name];
        if (t === undefined) continue;
        push(seen, name, `torch ${mode}`, t);
        parts.push(`torch ${mode} ${t.toFixed(1)}`);
      }
      for (const [p, n] of natives) {
        push(seen, name, `native ${p}`, n);
        parts.push(`native ${p} ${n.toFixed(1)}`);
        for (const mode of o.torchModes) {
          const t = torch[mode]![name];
          if (t !== undefined) push(ratios, name, `${p}/${mode}`, n / t);
        }
      }
      cells.push(`${name}: ${parts.join(', ')}`);
    }
    log(`    round ${r} (load ${load}; ms): ${cells.join(' | ')}`);
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(ratios)) {
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(seen[name]!)) row[k] = round2(median(v));
    const vs: Record<string, unknown> = {};
    const line: string[] = [];
    for (const [pair, rs] of Object.entries(ratios[name]!)) {
      vs[pair] = { median: round2(median(rs)), rounds: rs.map(round2) };
      line.push(`${pair} ${median(rs).toFixed(2)}x (${Math.min(...rs).toFixed(2)}-${Math.max(...rs).toFixed(2)})`);
    }
    row['vsTorch'] = vs;
    out[name] = row;
    log(`  ${name.padEnd(5)} native / PyTorch, median over rounds (range): ${line.join('  ')}`);
  }
  return out;
};

import { countsAsResult, describeProtocol, gridHoldout, protocolDifference, protocolKey, protocolOf, type Protocol } from '../config/protocol.js';
import type { RunSpec } from '../config/spec.js';
import type { ReportSource } from './types.js';

/**
 * A report ranks only runs of one protocol against each other (see lib/config/protocol.ts). A directory
 * written before each run directory held one protocol may mix several: the report then covers the
 * protocol its grid.json asks for (else that of the most recently updated run), and says on which runs
 * it leaves out. A sweep's held-out trials are no test result and never counted here (runs holding out
 * other images than the grid's own: countsAsResult).
 */
export const oneProtocol = (source: ReportSource): ReportSource => {
  const counted = countsAsResult(gridHoldout(source.grid?.specs ?? []));
  const runs = source.runs.filter((r) => counted(r.spec));
  const gridSpecs = (source.grid?.specs ?? []).filter(counted);
  const all = [...gridSpecs, ...runs.map((r) => r.spec)];
  if (new Set(all.map((s) => protocolKey(protocolOf(s)))).size <= 1) return source;
  const byCount = (specs: readonly RunSpec[]): Protocol => {
    const counts = new Map<string, { p: Protocol; n: number }>();
    for (const s of specs) {
      const p = protocolOf(s);
      const k = protocolKey(p);
      counts.set(k, { p, n: (counts.get(k)?.n ?? 0) + 1 });
    }
    return [...counts.values()].sort((a, b) => b.n - a.n)[0]!.p;
  };
  const newest = [...runs].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1))[0];
  const chosen = gridSpecs.length > 0 ? byCount(gridSpecs) : protocolOf(newest!.spec);
  const key = protocolKey(chosen);
  const keep = (s: RunSpec) => !counted(s) || protocolKey(protocolOf(s)) === key;
  const left = new Map<string, { p: Protocol; n: number }>();
  for (const r of runs)
    if (!keep(r.spec)) {
      const p = protocolOf(r.spec);
      const k = protocolKey(p);
      left.set(k, { p, n: (left.get(k)?.n ?? 0) + 1 });
    }
  const warnings = [...left.values()].map(
    ({ p, n }) =>
      `Left out ${n} run${n === 1 ? '' : 's'} of another protocol (${protocolDifference(p, chosen)}): a report ranks only runs ` +
      `of one protocol against each other, here ${describeProtocol(chosen)}. They are still in the store (optbench runs lists them).`,
  );
  return {
    grid: source.grid === null ? null : { ...source.grid, specs: source.grid.specs.filter(keep) },
    runs: source.runs.filter((r) => keep(r.spec)),
    warnings: [...source.warnings, ...warnings],
  };
};

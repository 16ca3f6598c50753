/**
 * Relative error of a kernel's output against a reference: max |actual - expected| / max(|expected|,
 * rms(expected)). Entries smaller than the output's RMS are measured against the RMS: a float32 sum of many
 * terms with cancellation has an error proportional to the size of its terms, not of its (possibly
 * near-zero) result. NaN must meet NaN and an infinity the same infinity, or the error is Infinity.
 */
export const relativeError = (actual: Float64Array, expected: Float64Array): number => {
  let squares = 0;
  let finite = 0;
  for (const v of expected)
    if (Number.isFinite(v)) {
      squares += v * v;
      finite++;
    }
  const floor = Math.max(Math.sqrt(squares / Math.max(finite, 1)), 1e-30);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const a = actual[i]!;
    if (Number.isNaN(e) || Number.isNaN(a)) {
      if (Number.isNaN(e) !== Number.isNaN(a)) return Infinity;
      continue;
    }
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (e !== a) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), floor));
  }
  return worst;
};

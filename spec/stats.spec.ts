import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  compareToBest,
  describe as describeSample,
  fisherExact,
  holm,
  mantelHaenszel,
  permutationTest,
  type Table2x2,
  logGamma,
  normalCdf,
  normalQuantile,
  pairedDifferences,
  pairedTTest,
  regularizedIncompleteBeta,
  studentTCdf,
  studentTQuantile,
  studentTTwoSided,
  tInterval,
  wilcoxonExactCounts,
  wilcoxonSignedRank,
} from '../lib/stats/index.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(
    Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)),
    `${what} expected ${expected}, got ${actual} (tolerance ${tol})`,
  );

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};

// Independent references, written from the definitions rather than the code under test.
const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
const choose = (n: number, k: number): number => factorial(n) / (factorial(k) * factorial(n - k));
/** erf by its Maclaurin series: fine to ~1e-13 for |x| <= 3. */
const erfSeries = (x: number): number => {
  let sum = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const phiRef = (z: number) => 0.5 * (1 + erfSeries(z / Math.SQRT2));
/** Student t CDF with 4 degrees of freedom, closed form. */
const tCdf4 = (t: number) => {
  const x = (t * t) / 4;
  return 0.5 + (3 / 8) * (t / Math.sqrt(1 + x)) * (1 - (1 / 12) * ((t * t) / (1 + x)));
};
const sampleSd = (xs: number[]) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};
/** The exact two-sided signed-rank p-value by enumerating all 2^n sign patterns of ranks 1..n. */
const bruteWilcoxonP = (d: number[]): number => {
  const n = d.length;
  const order = d.map((x, i) => [Math.abs(x), i] as const).sort((a, b) => a[0] - b[0]);
  const rank = new Array<number>(n);
  order.forEach(([, i], r) => (rank[i] = r + 1));
  const observed = d.reduce((s, x, i) => s + (x > 0 ? rank[i]! : 0), 0);
  let low = 0;
  let high = 0;
  for (let mask = 0; mask < 1 << n; mask++) {
    let w = 0;
    for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) w += r;
    if (w <= observed) low++;
    if (w >= observed) high++;
  }
  return Math.min(1, (2 * Math.min(low, high)) / 2 ** n);
};

describe('stats: special functions', () => {
  it('logGamma matches log factorials and Γ(1/2) = √π', () => {
    for (let n = 1; n <= 20; n++) close(logGamma(n), Math.log(factorial(n - 1)), 1e-13, `lnΓ(${n})`);
    close(logGamma(0.5), 0.5 * Math.log(Math.PI), 1e-14);
    close(logGamma(1.5), Math.log(Math.sqrt(Math.PI) / 2), 1e-14);
  });

  it('incomplete beta: closed forms I_x(a,1) = x^a, I_x(1,b) = 1-(1-x)^b, I_x(1/2,1/2) = 2/π asin √x', () => {
    for (const x of [1e-6, 0.01, 0.2, 0.5, 0.77, 0.999]) {
      for (const a of [0.3, 1, 2.5, 7]) close(regularizedIncompleteBeta(x, a, 1), x ** a, 1e-13, `I(${x};${a},1)`);
      for (const b of [0.3, 1, 2.5, 7]) close(regularizedIncompleteBeta(x, 1, b), 1 - (1 - x) ** b, 1e-13, `I(${x};1,${b})`);
      close(regularizedIncompleteBeta(x, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(x)), 1e-13);
    }
  });

  it('incomplete beta: binomial tail identity I_p(k, n-k+1) = P(Bin(n,p) >= k)', () => {
    for (const n of [1, 5, 12, 30])
      for (const p of [0.05, 0.3, 0.5, 0.91])
        for (let k = 1; k <= n; k++) {
          let tail = 0;
          for (let j = k; j <= n; j++) tail += choose(n, j) * p ** j * (1 - p) ** (n - j);
          close(regularizedIncompleteBeta(p, k, n - k + 1), tail, 1e-11, `n=${n} p=${p} k=${k}`);
        }
  });

  it('incomplete beta: symmetry and the recurrence in a', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.001, max: 0.999, noNaN: true }),
        fc.double({ min: 0.1, max: 40, noNaN: true }),
        fc.double({ min: 0.1, max: 40, noNaN: true }),
        (x, a, b) => {
          close(regularizedIncompleteBeta(x, a, b), 1 - regularizedIncompleteBeta(1 - x, b, a), 1e-10, 'symmetry');
          // I_x(a+1, b) = I_x(a, b) - x^a (1-x)^b / (a B(a, b))
          const lnB = logGamma(a) + logGamma(b) - logGamma(a + b);
          const term = Math.exp(a * Math.log(x) + b * Math.log(1 - x) - lnB) / a;
          close(regularizedIncompleteBeta(x, a + 1, b), regularizedIncompleteBeta(x, a, b) - term, 1e-10, 'recurrence');
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it('normal CDF matches the erf series and a tabulated tail; the quantile inverts it', () => {
    for (let z = -3; z <= 3; z += 0.125) close(normalCdf(z), phiRef(z), 1e-12, `Φ(${z})`);
    // Φ(-5) = 2.866515718791939e-7 (tabulated), relative accuracy.
    close(normalCdf(-5) / 2.866515718791939e-7, 1, 1e-10);
    close(normalQuantile(0.975), 1.959963984540054, 1e-12);
    for (const p of [1e-12, 1e-5, 0.01, 0.3, 0.5, 0.8, 0.999]) close(normalCdf(normalQuantile(p)) / p, 1, 1e-10, `p=${p}`);
  });

  it('Student t: closed forms for df = 1 and 2 and a tabulated closed form for df = 4', () => {
    for (const t of [-30, -3, -1, -0.2, 0, 0.4, 1.7, 12]) {
      close(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `Cauchy ${t}`);
      close(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, `df2 ${t}`);
      close(studentTCdf(t, 4), tCdf4(t), 1e-13, `df4 ${t}`);
    }
    for (const p of [0.6, 0.9, 0.975, 0.999]) {
      close(studentTQuantile(p, 1), Math.tan(Math.PI * (p - 0.5)), 1e-9, `q1 ${p}`);
      close(studentTQuantile(p, 2), (2 * p - 1) / Math.sqrt(2 * p * (1 - p)), 1e-9, `q2 ${p}`);
    }
  });

  it('Student t quantiles agree with a printed table (6 decimals) and invert the CDF to 1e-10', () => {
    const table: [number, number, number][] = [
      [0.975, 1, 12.706205],
      [0.975, 2, 4.302653],
      [0.975, 4, 2.776445],
      [0.975, 9, 2.262157],
      [0.975, 30, 2.042272],
      [0.995, 5, 4.032143],
      [0.95, 10, 1.812461],
    ];
    for (const [p, df, q] of table) close(studentTQuantile(p, df), q, 6e-7, `t_{${p},${df}}`);
    for (const df of [1, 2, 3, 4.5, 9, 29, 200])
      for (const p of [0.001, 0.1, 0.5, 0.7, 0.975, 0.99999]) close(studentTCdf(studentTQuantile(p, df), df), p, 1e-10);
    close(studentTTwoSided(2.776445, 4), 0.05, 1e-6);
  });
});

describe('stats: describe and the t interval', () => {
  it('mean, sample std and the 95 % interval from the formula with tabulated t', () => {
    const xs = [4.1, 5.3, 3.8, 6.0, 4.9];
    const m = (4.1 + 5.3 + 3.8 + 6.0 + 4.9) / 5;
    const sd = Math.sqrt([4.1, 5.3, 3.8, 6.0, 4.9].reduce((s, x) => s + (x - m) ** 2, 0) / 4);
    const d = describeSample(xs);
    close(d.mean, m, 1e-15);
    close(d.std, sd, 1e-14);
    assert.equal(d.min, 3.8);
    assert.equal(d.max, 6.0);
    assert.equal(d.n, 5);
    const half = (2.776445 * sd) / Math.sqrt(5);
    close(d.ci95[0], m - half, 1e-6);
    close(d.ci95[1], m + half, 1e-6);

    const ys = [0.81, 0.84, 0.83, 0.85, 0.8, 0.86, 0.82, 0.84, 0.83, 0.85];
    const my = ys.reduce((a, b) => a + b, 0) / 10;
    const [lo, hi] = tInterval(ys);
    close(lo, my - (2.262157 * sampleSd(ys)) / Math.sqrt(10), 1e-7);
    close(hi, my + (2.262157 * sampleSd(ys)) / Math.sqrt(10), 1e-7);
  });

  it('gives NaN spread (not a throw) for fewer than two values', () => {
    const d = describeSample([0.9]);
    assert.equal(d.mean, 0.9);
    assert.ok(Number.isNaN(d.std) && Number.isNaN(d.ci95[0]));
    assert.ok(Number.isNaN(describeSample([]).mean));
  });
});

describe('stats: paired tests', () => {
  it('paired t-test: t from its formula, p from the closed-form df = 4 CDF', () => {
    const a = [0.91, 0.9, 0.93, 0.88, 0.92];
    const b = [0.89, 0.895, 0.9, 0.87, 0.915];
    const d = right(pairedDifferences(a, b));
    const m = d.reduce((s, x) => s + x, 0) / 5;
    const t = m / (sampleSd(d) / Math.sqrt(5));
    const r = pairedTTest(d);
    close(r.t, t, 1e-12);
    assert.equal(r.df, 4);
    close(r.p, 2 * (1 - tCdf4(Math.abs(t))), 1e-12);
    assert.ok(E.isLeft(pairedDifferences([1, 2], [1])));
  });

  it('Wilcoxon, hand-worked exact example', () => {
    // d = 0.5, -1.2, 2.0, 0.3, -0.1, 1.5, 0.8, 2.4 (n = 8, no ties, no zeros)
    // |d| in order: 0.1(-) 0.3(+) 0.5(+) 0.8(+) 1.2(-) 1.5(+) 2.0(+) 2.4(+) -> ranks 1..8
    // W- = 1 + 5 = 6, W+ = 36 - 6 = 30.
    // Subsets of {1..8} with sum <= 6: {} {1} {2} {3} {1,2} {4} {1,3} {5} {1,4} {2,3} {6} {1,5} {2,4} {1,2,3}
    // = 14 of 256 sign patterns, so p = 2 * 14 / 256 = 0.109375.
    const r = wilcoxonSignedRank([0.5, -1.2, 2.0, 0.3, -0.1, 1.5, 0.8, 2.4]);
    assert.equal(r.method, 'exact');
    assert.equal(r.wPlus, 30);
    assert.equal(r.wMinus, 6);
    assert.equal(r.p, 28 / 256);
  });

  it('Wilcoxon, hand-worked normal approximation with zeros and ties', () => {
    // d = 0, 2, -2, 3, 3, 4, -1, 5, 6, 0, 7: the two zeros are dropped (Wilcoxon's method), n = 9.
    // |d| sorted: 1(-) r1; 2(+),2(-) r2.5 each; 3(+),3(+) r4.5 each; 4 r6; 5 r7; 6 r8; 7 r9 (all +)
    // W- = 1 + 2.5 = 3.5, W+ = 45 - 3.5 = 41.5, E = 9*10/4 = 22.5
    // Var = 9*10*19/24 - ((2^3-2) + (2^3-2))/48 = 71.25 - 0.25 = 71
    // z = (41.5 - 22.5 - 0.5) / sqrt(71)
    const r = wilcoxonSignedRank([0, 2, -2, 3, 3, 4, -1, 5, 6, 0, 7]);
    assert.equal(r.method, 'normal');
    assert.equal(r.n, 9);
    assert.equal(r.zeros, 2);
    assert.equal(r.wPlus, 41.5);
    assert.equal(r.wMinus, 3.5);
    const z = 18.5 / Math.sqrt(71);
    close(r.z!, z, 1e-14);
    close(r.p, 2 * (1 - phiRef(z)), 1e-12);
  });

  it('the exact null distribution equals brute-force enumeration of 2^n sign patterns', () => {
    for (let n = 1; n <= 14; n++) {
      const counts = new Array<number>((n * (n + 1)) / 2 + 1).fill(0);
      for (let mask = 0; mask < 1 << n; mask++) {
        let w = 0;
        for (let r = 1; r <= n; r++) if (mask & (1 << (r - 1))) w += r;
        counts[w]!++;
      }
      assert.deepEqual(wilcoxonExactCounts(n), counts, `n = ${n}`);
    }
  });

  it('exact p-values equal brute force on random tie-free samples', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 13 }),
        fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }),
        (mags, signs) => {
          const d = mags.map((m, i) => (signs[i] ? m : -m) / 100);
          const r = wilcoxonSignedRank(d);
          assert.equal(r.method, 'exact');
          close(r.p, bruteWilcoxonP(d), 1e-15);
        },
      ),
      { numRuns: 150, seed: 11 },
    );
  });

  it('all-zero differences give p = 1', () => {
    assert.equal(wilcoxonSignedRank([0, 0, 0]).p, 1);
    assert.equal(pairedTTest([0, 0, 0]).p, 1);
  });
});

describe('stats: Holm', () => {
  it('textbook example', () => {
    // p = 0.01, 0.04, 0.03, 0.005 (m = 4). Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06,
    // 0.04*1 = 0.04 -> raised to the running max 0.06. In input order: 0.03, 0.06, 0.06, 0.02.
    const adj = holm([0.01, 0.04, 0.03, 0.005]);
    [0.03, 0.06, 0.06, 0.02].forEach((e, i) => close(adj[i]!, e, 1e-15));
    // 0.5*2 = 1, then 0.9*1 = 0.9 is raised to the running max 1.
    assert.deepEqual(holm([0.5, 0.9]), [1, 1]);
  });

  it('rejects exactly what the sequential step-down procedure rejects, and is monotone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 12 }),
        fc.double({ min: 0.001, max: 0.2, noNaN: true }),
        (ps, alpha) => {
          const adj = holm(ps);
          const order = ps.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
          const rejected = new Set<number>();
          for (let k = 0; k < order.length; k++) {
            if (order[k]![0] * (ps.length - k) <= alpha) rejected.add(order[k]![1]);
            else break;
          }
          ps.forEach((p, i) => {
            assert.equal(adj[i]! <= alpha, rejected.has(i));
            assert.ok(adj[i]! >= p && adj[i]! <= 1);
          });
          for (let k = 1; k < order.length; k++) assert.ok(adj[order[k]![1]]! >= adj[order[k - 1]![1]]!);
        },
      ),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('stats: compareToBest', () => {
  it('n = 5: paired t-test (and says why), Holm across comparisons, winner only when all are worse', () => {
    const results = {
      adam: [0.9, 0.91, 0.92, 0.89, 0.9],
      sgd: [0.8, 0.85, 0.83, 0.82, 0.84],
      adamax: [0.905, 0.9, 0.925, 0.885, 0.9],
    };
    const c = right(compareToBest(results, { higherIsBetter: true }));
    assert.equal(c.best, 'adam');
    assert.equal(c.test, 't');
    assert.match(c.testReason, /cannot give a two-sided p below 2\/2\^5/);
    const pOf = (other: number[]) => {
      const d = results.adam.map((x, i) => x - other[i]!);
      const t = (d.reduce((s, x) => s + x, 0) / 5) / (sampleSd(d) / Math.sqrt(5));
      return 2 * (1 - tCdf4(Math.abs(t)));
    };
    const pSgd = pOf(results.sgd);
    const pAdamax = pOf(results.adamax);
    // Holm with m = 2: the smaller doubles, the larger keeps its value (or the running max).
    const [lo, hi] = pSgd < pAdamax ? [pSgd, pAdamax] : [pAdamax, pSgd];
    const adjLo = Math.min(1, 2 * lo);
    const adjHi = Math.max(adjLo, hi);
    close(c.optimizers.sgd!.pAdjusted!, pSgd < pAdamax ? adjLo : adjHi, 1e-12);
    close(c.optimizers.adamax!.pAdjusted!, pSgd < pAdamax ? adjHi : adjLo, 1e-12);
    assert.equal(c.optimizers.sgd!.verdict, 'worse');
    assert.equal(c.optimizers.adamax!.tiedWithBest, true);
    assert.equal(c.optimizers.adam!.tiedWithBest, true);
    assert.equal(c.winner, null);

    const clear = right(compareToBest({ adam: results.adam, sgd: results.sgd }, { higherIsBetter: true }));
    assert.equal(clear.winner, 'adam');
    const meanSgd = results.sgd.reduce((a, b) => a + b, 0) / 5;
    close(clear.optimizers.sgd!.mean, meanSgd, 1e-15);
    close(clear.optimizers.sgd!.ci95[1] - meanSgd, (2.776445 * sampleSd(results.sgd)) / Math.sqrt(5), 1e-6);
  });

  it('n = 8 with lower-is-better: Wilcoxon exact p on the oriented differences', () => {
    const best = [0.30, 0.31, 0.29, 0.33, 0.30, 0.32, 0.31, 0.30];
    const gaps = [0.05, 0.01, 0.07, 0.02, 0.03, 0.04, 0.06, 0.08];
    const worse = best.map((x, i) => x + gaps[i]!);
    const c = right(compareToBest({ worse, best }, { higherIsBetter: false }));
    assert.equal(c.best, 'best');
    assert.equal(c.test, 'wilcoxon');
    // Every loss is higher for `worse`, all |differences| distinct: W+ = 36, p = 2/256.
    const d = worse.map((x, i) => x - best[i]!);
    close(c.optimizers.worse!.p!, bruteWilcoxonP(d), 1e-15);
    close(c.optimizers.worse!.p!, 2 / 256, 1e-15);
    assert.equal(c.winner, 'best');
    const forcedT = right(compareToBest({ worse, best }, { higherIsBetter: false, test: 't' }));
    assert.equal(forcedT.test, 't');
    const forcedW = right(compareToBest({ a: [1, 2, 3], b: [0, 1, 2] }, { higherIsBetter: true, test: 'wilcoxon' }));
    assert.match(forcedW.testReason, /no difference can be significant/);
    assert.equal(forcedW.winner, null);
  });

  it('a best-by-mean carried by one seed while the other wins the rest: inconsistent, no winner', () => {
    // 12 seeds: `steady` beats `lucky` by 0.01..0.11 on 11 seeds, `lucky` wins seed 12 by 2.0, so lucky has
    // the better mean. Oriented differences lucky - steady: eleven negatives (ranks 1..11) and +2.0 (rank 12):
    // W+ = 12; the number of subsets of {1..12} summing to at most 12 is 1+1+1+2+2+3+4+5+6+8+10+12+15 = 70,
    // so the exact two-sided p = 2 * 70 / 4096.
    const steady = Array.from({ length: 12 }, (_, i) => 0.5 + 0.001 * i);
    const lucky = steady.map((x, i) => (i === 11 ? x + 2.0 : x - 0.01 * (i + 1)));
    const c = right(compareToBest({ steady, lucky }, { higherIsBetter: true }));
    assert.equal(c.best, 'lucky');
    assert.equal(c.test, 'wilcoxon');
    close(c.optimizers.steady!.p!, 140 / 4096, 1e-15);
    close(c.optimizers.steady!.p!, bruteWilcoxonP(lucky.map((x, i) => x - steady[i]!)), 1e-15);
    assert.equal(c.optimizers.steady!.verdict, 'inconsistent');
    assert.equal(c.optimizers.steady!.tiedWithBest, false);
    assert.equal(c.winner, null);
  });

  it('refuses unequal seed counts and non-finite values with an InvalidConfig', () => {
    const e1 = compareToBest({ a: [1, 2], b: [1] }, { higherIsBetter: true });
    assert.ok(E.isLeft(e1) && e1.left._tag === 'InvalidConfig' && /same seeds/.test(e1.left.message));
    const e2 = compareToBest({ a: [1, NaN], b: [1, 2] }, { higherIsBetter: true });
    assert.ok(E.isLeft(e2) && /non-finite/.test(e2.left.message));
    assert.ok(E.isLeft(compareToBest({}, { higherIsBetter: true })));
  });

  it('one seed: no test, everything tied, no winner', () => {
    const c = right(compareToBest({ a: [0.9], b: [0.8] }, { higherIsBetter: true }));
    assert.equal(c.test, 'none');
    assert.equal(c.optimizers.b!.tiedWithBest, true);
    assert.equal(c.winner, null);
  });
});

/** C(n, k) exactly, as a BigInt: the references below share nothing with the code under test. */
const chooseBig = (n: number, k: number): bigint => {
  let r = 1n;
  for (let i = 1; i <= k; i++) r = (r * BigInt(n - k + i)) / BigInt(i);
  return r;
};
/** Every table with `t`'s margins, as its top-left count and its exact probability (numerator / denominator). */
const tablesWithMargins = (t: Table2x2): { a: number; p: number }[] => {
  const [[a, b], [c, d]] = t;
  const n = a + b + c + d;
  const out: { a: number; p: number }[] = [];
  const denominator = chooseBig(n, a + c);
  for (let k = 0; k <= a + b; k++) {
    const rest = a + c - k;
    if (rest < 0 || rest > c + d) continue;
    out.push({ a: k, p: Number((chooseBig(a + b, k) * chooseBig(c + d, rest) * 10n ** 15n) / denominator) / 1e15 });
  }
  return out;
};

describe('stats: tests of counts', () => {
  it("Fisher's exact test: the tea-tasting table and the VAE stall counts the issue quotes", () => {
    // Fisher (1935): 3 of 4 cups right; two-sided p = (1 + 16 + 16 + 1) / 70.
    close(fisherExact([[3, 1], [1, 3]]).p, 34 / 70, 1e-12);
    // SciPy 1.x fisher_exact: [[4, 12], [2, 14]] -> 0.653936472623903; [[0, 5], [7, 1]] -> 0.004662004662004662.
    close(fisherExact([[4, 12], [2, 14]]).p, 0.653936472623903, 1e-10);
    close(fisherExact([[0, 5], [7, 1]]).p, 0.004662004662004662, 1e-10);
    close(fisherExact([[4, 12], [2, 14]]).oddsRatio, 56 / 24, 1e-15);
    assert.equal(fisherExact([[0, 16], [0, 16]]).p, 1);
  });

  it("Fisher's exact test equals the enumeration of every table with the same margins", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 4, maxLength: 4 }), ([a, b, c, d]) => {
        const t: Table2x2 = [[a!, b!], [c!, d!]];
        const all = tablesWithMargins(t);
        const observed = all.find((x) => x.a === a)!.p;
        const expected = all.filter((x) => x.p <= observed * (1 + 1e-7)).reduce((s, x) => s + x.p, 0);
        close(fisherExact(t).p, Math.min(1, expected), 1e-9, JSON.stringify(t));
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it('Cochran-Mantel-Haenszel: the penicillin-and-rabbits example (Agresti 1990; R mantelhaen.test, statsmodels)', () => {
    const rabbits: Table2x2[] = [
      [[0, 6], [0, 5]],
      [[3, 3], [0, 6]],
      [[6, 0], [2, 4]],
      [[5, 1], [6, 0]],
      [[2, 0], [5, 0]],
    ];
    const r = mantelHaenszel(rabbits);
    close(r.statistic, 3.928571428571429, 1e-12);
    close(r.p, 0.047472255142918196, 1e-9);
    close(r.oddsRatio, 7, 1e-12);
    const u = mantelHaenszel(rabbits, false);
    close(u.statistic, 5.6571428571428575, 1e-12);
    close(u.p, 0.01738442035206622, 1e-9);
  });

  it("Cochran-Mantel-Haenszel's exact p equals the enumeration over every stratum's tables", () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
        (cells) => {
          const tables = cells.map(([a, b, c, d]) => [[a!, b!], [c!, d!]] as Table2x2).filter((t) => t.flat().reduce((s, x) => s + x, 0) >= 2);
          if (tables.length === 0) return;
          // Every combination of the strata's tables: the law of the summed top-left count.
          let law = new Map<number, number>([[0, 1]]);
          for (const t of tables) {
            const next = new Map<number, number>();
            for (const [s, p] of law) for (const x of tablesWithMargins(t)) next.set(s + x.a, (next.get(s + x.a) ?? 0) + p * x.p);
            law = next;
          }
          const observed = law.get(tables.reduce((s, t) => s + t[0][0], 0))!;
          const expected = [...law.values()].filter((p) => p <= observed * (1 + 1e-7)).reduce((s, p) => s + p, 0);
          close(mantelHaenszel(tables).exactP, Math.min(1, expected), 1e-9, JSON.stringify(tables));
          // With one stratum, the exact conditional test is Fisher's.
          if (tables.length === 1) close(mantelHaenszel(tables).exactP, fisherExact(tables[0]!).p, 1e-12);
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });

  it('refuses what is not a table of counts', () => {
    assert.throws(() => fisherExact([[1.5, 2], [3, 4]]), /whole numbers/);
    assert.throws(() => mantelHaenszel([]), /at least one/);
    assert.throws(() => mantelHaenszel([[[1, -2], [3, 4]]]), /whole numbers/);
  });

  it("a permutation test's p is the exact enumeration's within its Monte Carlo error", () => {
    const a = [0, 3, 3, 1, 0, 2, 3];
    const b = [0, 0, 1, 0, 0, 1];
    // Every split of the 13 values into 7 and 6 (1,716 of them), counted exactly.
    const pooled = [...a, ...b];
    const observed = Math.abs(a.reduce((s, x) => s + x, 0) / 7 - b.reduce((s, x) => s + x, 0) / 6);
    let extreme = 0;
    let splits = 0;
    const walk = (i: number, chosen: number[]): void => {
      if (chosen.length === 7) {
        const sumA = chosen.reduce((s, j) => s + pooled[j]!, 0);
        const sumB = pooled.reduce((s, x) => s + x, 0) - sumA;
        splits++;
        if (Math.abs(sumA / 7 - sumB / 6) >= observed - 1e-12) extreme++;
        return;
      }
      for (let j = i; j < pooled.length; j++) walk(j + 1, [...chosen, j]);
    };
    walk(0, []);
    assert.equal(splits, 1716);
    const exact = extreme / splits;
    const r = permutationTest(a, b, 200_000, 5);
    close(r.difference, 12 / 7 - 2 / 6, 1e-15);
    // Binomial sd of the Monte Carlo p: sqrt(p (1 - p) / rounds); 5 sd.
    assert.ok(Math.abs(r.p - exact) < 5 * Math.sqrt((exact * (1 - exact)) / 200_000) + 1e-5, `${r.p} vs exact ${exact}`);
    assert.deepEqual(permutationTest(a, b, 1000, 9), permutationTest(a, b, 1000, 9), 'seeded: the same p every time');
    assert.throws(() => permutationTest([], b), /non-empty/);
  });
});

import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import {
  createAsha,
  decodeAshaState,
  decodeSearchSpace,
  formatSearchSpace,
  gridCounts,
  gridPoints,
  ashaIsDone,
  ashaNext,
  parseSearchSpace,
  ashaPromotions,
  randomPoints,
  ashaReport,
  ashaResume,
  rungResources,
  samplePoint,
  ashaSummary,
  toOverrides,
  type AshaConfig,
  type AshaDecision,
  type AshaState,
  type SearchSpace,
} from '../lib/sweep/index.js';

const right = <A>(e: E.Either<unknown, A>): A => {
  if (E.isLeft(e)) assert.fail(`expected Right, got ${JSON.stringify(e.left)}`);
  return e.right;
};
const leftMessage = (e: E.Either<{ _tag: string; message: string; path?: string }, unknown>) => {
  if (E.isRight(e)) assert.fail(`expected an error, got ${JSON.stringify(e.right)}`);
  assert.equal(e.left._tag, 'InvalidConfig');
  return e.left.message;
};
const close = (a: number, b: number, tol: number) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

const BRIEF = 'lr=log(1e-4,1e-1),beta1=uniform(0.8,0.99),momentum=choice(0,0.9),nesterov=choice(true,false),batch=int(16,256)';

describe('sweep: search space', () => {
  it('parses every distribution into the typed structure', () => {
    assert.deepEqual(right(parseSearchSpace(BRIEF)), [
      { name: 'lr', kind: 'log', lo: 1e-4, hi: 1e-1 },
      { name: 'beta1', kind: 'uniform', lo: 0.8, hi: 0.99 },
      { name: 'momentum', kind: 'choice', values: [0, 0.9] },
      { name: 'nesterov', kind: 'choice', values: [true, false] },
      { name: 'batch', kind: 'int', lo: 16, hi: 256 },
    ]);
    assert.deepEqual(right(parseSearchSpace(' lr = log( 1e-4 , .1 ) ')), [{ name: 'lr', kind: 'log', lo: 1e-4, hi: 0.1 }]);
  });

  it('round-trips through its text form and through JSON', () => {
    const space = right(parseSearchSpace(BRIEF));
    assert.deepEqual(right(parseSearchSpace(formatSearchSpace(space))), space);
    assert.deepEqual(right(decodeSearchSpace(JSON.parse(JSON.stringify(space)))), space);
  });

  it('refuses bad input with InvalidConfig naming the token and what was expected', () => {
    const cases: [string, RegExp][] = [
      ['lr=lgo(1e-4,1)', /'lr=lgo\(1e-4,1\)'.*unknown distribution 'lgo'.*did you mean 'log'/],
      ['lr=unifrom(0,1)', /did you mean 'uniform'/],
      ['lr=log(0,1e-1)', /'lr=log\(0,1e-1\)'.*log needs lo > 0/],
      ['lr=log(1e-1,1e-4)', /log needs lo < hi/],
      ['b1=uniform(0.9,0.9)', /uniform needs lo < hi/],
      ['batch=int(16.5,256)', /int takes two integers/],
      ['batch=int(256,16)', /int needs lo < hi/],
      ['lr=log(1e-4)', /log takes two numbers \(lo, hi\), got 1 argument/],
      ['lr=log(1e-4,abc)', /'abc' is not a number/],
      ['lr=log(1e-4,1e-1', /parentheses do not balance/],
      ['lr', /expected name=distribution\(args\)/],
      ['lr=log(1e-4,1e-1),,b=uniform(0,1)', /empty entry/],
      ['lr=log(1e-4,1e-1),lr=uniform(0,1)', /'lr' is given twice/],
      ['opt=choice(adam,sgd)', /choice values must be numbers or true\/false, got 'adam'/],
      ['m=choice(0,0.9,0)', /choice lists 0 twice/],
      ['', /search space is empty/],
    ];
    for (const [text, re] of cases) assert.match(leftMessage(parseSearchSpace(text)), re, text);
    const e = parseSearchSpace('lr=log(1e-4,1e-1),beta1=uniform(0.99,0.8)');
    assert.ok(E.isLeft(e) && e.left._tag === 'InvalidConfig' && e.left.path === 'space.beta1');
    assert.match(leftMessage(decodeSearchSpace([{ name: 'lr', kind: 'log', lo: -1, hi: 1 }])), /log needs lo > 0/);
    assert.match(leftMessage(decodeSearchSpace([{ name: 'lr', kind: 'log', lo: 1 }])), /hi/);
  });

  it('samples deterministically per (seed, trial), inside the ranges', () => {
    const space = right(parseSearchSpace(BRIEF));
    assert.deepEqual(samplePoint(space, 42, 7), samplePoint(space, 42, 7));
    assert.notDeepEqual(samplePoint(space, 42, 7), samplePoint(space, 42, 8));
    assert.notDeepEqual(samplePoint(space, 42, 7), samplePoint(space, 43, 7));
    const pts = right(randomPoints(space, 200, 1));
    assert.deepEqual(pts[5], samplePoint(space, 1, 5));
    for (const p of pts) {
      assert.ok((p.lr as number) >= 1e-4 && (p.lr as number) <= 1e-1);
      assert.ok((p.beta1 as number) >= 0.8 && (p.beta1 as number) < 0.99);
      assert.ok([0, 0.9].includes(p.momentum as number));
      assert.ok(typeof p.nesterov === 'boolean');
      assert.ok(Number.isInteger(p.batch) && (p.batch as number) >= 16 && (p.batch as number) <= 256);
    }
    assert.match(leftMessage(randomPoints(space, 0, 1)), /--trials must be a positive integer/);
  });

  it('log dimensions are uniform in log space; int and choice are uniform over their values', () => {
    const space = right(parseSearchSpace('lr=log(1e-4,1e-1),k=int(1,4),c=choice(1,2,3)'));
    const n = 6000;
    const pts = right(randomPoints(space, n, 2024));
    // log10(lr) ~ U(-4, -1): mean -2.5, sd 3/sqrt(12); 4 sd of the mean of n draws as tolerance.
    const logs = pts.map((p) => Math.log10(p.lr as number));
    const m = logs.reduce((a, b) => a + b, 0) / n;
    assert.ok(Math.abs(m - -2.5) < (4 * 3) / Math.sqrt(12 * n), `mean log10 lr ${m}`);
    const decades = [0, 0, 0];
    for (const l of logs) decades[Math.min(2, Math.floor(l + 4))]!++;
    // Each of the three decades holds 1/3 of the draws; binomial sd sqrt(n p (1-p)).
    for (const c of decades) assert.ok(Math.abs(c - n / 3) < 4 * Math.sqrt((n * 2) / 9), `decades ${decades}`);
    for (const [dim, values] of [['k', [1, 2, 3, 4]], ['c', [1, 2, 3]]] as const) {
      const p = 1 / values.length;
      for (const v of values) {
        const c = pts.filter((pt) => pt[dim] === v).length;
        assert.ok(Math.abs(c - n * p) < 4 * Math.sqrt(n * p * (1 - p)), `${dim}=${v}: ${c}`);
      }
    }
  });

  it('grid: log-spaced and linear points, product at most trials, maximal', () => {
    const lr = right(parseSearchSpace('lr=log(1e-4,1e-1)'));
    const g = right(gridPoints(lr, 4)).map((p) => p.lr as number);
    [1e-4, 1e-3, 1e-2, 1e-1].forEach((e, i) => close(g[i]!, e, 1e-12));
    close(right(gridPoints(lr, 1))[0]!.lr as number, Math.sqrt(1e-4 * 1e-1), 1e-12);
    const two = right(parseSearchSpace('m=choice(0,0.9),b1=uniform(0.8,1)'));
    const pts = right(gridPoints(two, 10));
    // choice gets both values, b1 the remaining factor: 2 x 5 = 10, first dimension slowest.
    assert.equal(pts.length, 10);
    assert.deepEqual(pts.slice(0, 5).map((p) => p.m), [0, 0, 0, 0, 0]);
    [0.8, 0.85, 0.9, 0.95, 1].forEach((e, i) => close(pts[i]!.b1 as number, e, 1e-12));

    const space: SearchSpace = right(parseSearchSpace(BRIEF));
    const maxes = [Infinity, Infinity, 2, 2, 241];
    for (const trials of [1, 7, 12, 50, 300]) {
      const counts = gridCounts(space, trials);
      const product = counts.reduce((a, b) => a * b, 1);
      assert.ok(product <= trials);
      assert.equal(right(gridPoints(space, trials)).length, product);
      // Maximal: no dimension could take one more value within the budget.
      counts.forEach((c, i) => assert.ok(c === maxes[i] || (product / c) * (c + 1) > trials, `trials ${trials}: ${counts}`));
    }
    // Hand trace for 12: lr, beta1, momentum -> 2 each (product 8); nesterov or batch -> 16 > 12;
    // lr -> 3 gives 12.
    assert.deepEqual(gridCounts(space, 12), [3, 2, 2, 1, 1]);
    const ints = right(gridPoints(right(parseSearchSpace('b=int(1,5)')), 100)).map((p) => p.b);
    assert.deepEqual(ints, [1, 2, 3, 4, 5]);
    assert.deepEqual(toOverrides({ lr: 0.1, nesterov: true, x: false }), { lr: 0.1, nesterov: 1, x: 0 });
  });
});

// ---------------------------------------------------------------------------------------------------------

const asha = (c: Partial<AshaConfig> = {}): AshaState =>
  right(createAsha({ minResource: 1, maxResource: 9, eta: 3, trials: 9, direction: 'max', ...c }));

/** Each trial's "quality" in the toy objective (trial i has x[i]). */
const X = [5, 2, 8, 1, 9, 3, 7, 4, 6];
/** Metric rising with resource but ranking trials by x at every rung. */
const monotone = (trial: number, resource: number) => (X[trial]! * resource) / (resource + 1);

const short = (d: AshaDecision) => (typeof d === 'string' ? d : `${d.trial}@${d.rung}`);

/** One worker: ask, train, ashaReport, until done. */
const runSequential = (s0: AshaState, metric: (trial: number, resource: number) => number) => {
  let s = s0;
  const log: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const { decision, state } = ashaNext(s);
    s = state;
    log.push(short(decision));
    if (typeof decision === 'string') break;
    s = right(ashaReport(s, decision.trial, decision.rung, metric(decision.trial, decision.resource)));
  }
  return { s, log };
};

describe('sweep: ASHA', () => {
  it('rungs at R/eta^k with the top rung exactly R', () => {
    assert.deepEqual(rungResources(1, 9, 3), [1, 3, 9]);
    assert.deepEqual(rungResources(1, 27, 3), [1, 3, 9, 27]);
    assert.deepEqual(rungResources(1, 10, 3), [1, 3, 10]); // 10/9, 10/3 rounded to whole epochs
    assert.deepEqual(rungResources(1, 16, 2), [1, 2, 4, 8, 16]);
    assert.deepEqual(rungResources(3, 3, 3), [3]);
    assert.match(leftMessage(createAsha({ minResource: 1, maxResource: 9, eta: 1, trials: 9, direction: 'max' })), /eta must be at least 2/);
    assert.match(leftMessage(createAsha({ minResource: 10, maxResource: 9, eta: 3, trials: 9, direction: 'max' })), /must not exceed/);
    assert.match(leftMessage(createAsha({ minResource: 1, maxResource: 9, eta: 3, trials: 0, direction: 'max' })), /trials/);
  });

  it('one worker: promotes exactly the top 1/eta at each rung and completes the best at R', () => {
    // Hand trace (x = 5 2 8 1 9 3 7 4 6, top floor(n/3) of a rung may move up):
    //  0@0 1@0 2@0 -> rung 0 has 3, top 1 = trial 2 (x 8): 2@1
    //  3@0 4@0     -> rung 0 has 5, top 1 = trial 4 (x 9): 4@1 (rung 1 has 2: floor(2/3) = 0)
    //  5@0 6@0 7@0 8@0 -> rung 0 has 9, top 3 = {4, 2, 6}: 6@1; rung 1 = {2, 4, 6}, top 1 = 4: 4@2
    const { s, log } = runSequential(asha(), monotone);
    assert.deepEqual(log, ['0@0', '1@0', '2@0', '2@1', '3@0', '4@0', '4@1', '5@0', '6@0', '7@0', '8@0', '6@1', '4@2', 'done']);
    assert.deepEqual(ashaPromotions(s), [[4, 2, 6], [4]]);
    const labels = ashaSummary(s).map((t) => t.label);
    assert.deepEqual(labels, [
      'stopped at rung 0 (1 epoch)',
      'stopped at rung 0 (1 epoch)',
      'stopped at rung 1 (3 epochs)',
      'stopped at rung 0 (1 epoch)',
      'completed',
      'stopped at rung 0 (1 epoch)',
      'stopped at rung 1 (3 epochs)',
      'stopped at rung 0 (1 epoch)',
      'stopped at rung 0 (1 epoch)',
    ]);
    assert.deepEqual(s.trials[4]!.metrics, [monotone(4, 1), monotone(4, 3), monotone(4, 9)]);
  });

  it('promotes on the metric at each rung, not on earlier rungs (late bloomers), and honours direction', () => {
    // At rung 0 trials rank by x; from rung 1 on the order reverses (10 - x). Rung 1 gets 2, 4, 6
    // (x 8, 9, 7 -> metric 2, 1, 3), so trial 6 is the one completed.
    const crossing = (trial: number, resource: number) => (resource <= 1 ? X[trial]! : 10 - X[trial]!);
    const { s } = runSequential(asha(), crossing);
    assert.deepEqual(ashaPromotions(s), [[4, 2, 6], [6]]);
    assert.equal(ashaSummary(s)[6]!.status, 'completed');
    // Minimising -metric is the same search as maximising the metric.
    const { s: sMin, log } = runSequential(asha({ direction: 'min' }), (t, r) => -monotone(t, r));
    assert.deepEqual(ashaPromotions(sMin), [[4, 2, 6], [4]]);
    assert.equal(log.at(-2), '4@2');
  });

  it('asynchronous, interleaved completions with three workers', () => {
    let s = asha();
    const ask = (expected: string) => {
      const { decision, state } = ashaNext(s);
      s = state;
      assert.equal(short(decision), expected);
    };
    const done = (trial: number, rung: number) => {
      s = right(ashaReport(s, trial, rung, monotone(trial, s.rungs[rung]!)));
    };
    ask('0@0'); ask('1@0'); ask('2@0');
    done(2, 0); ask('3@0'); // rung 0 = {2}: floor(1/3) = 0, start a new trial
    done(0, 0); ask('4@0');
    done(1, 0); ask('2@1'); // rung 0 = {2, 0, 1}: top 1 = trial 2
    done(4, 0); ask('4@1'); // rung 0 = {2, 0, 1, 4}: top 1 = 4, promoted although 3@0 is still running
    assert.equal(ashaSummary(s)[3]!.status, 'running');
    assert.equal(ashaSummary(s)[0]!.status, 'waiting');
    done(4, 1); ask('5@0');
    done(2, 1); ask('6@0');
    done(6, 0); ask('7@0'); // 5 at rung 0: top 1 = 4, already promoted
    done(3, 0); ask('8@0');
    done(8, 0); ask('wait'); // all trials started, nothing promotable, 5 and 7 still running
    done(7, 0); ask('wait'); ask('wait');
    done(5, 0); ask('6@1'); // rung 0 complete: top 3 = {4, 2, 6}
    done(6, 1); ask('4@2'); // rung 1 = {4, 2, 6}: top 1 = 4
    ask('wait');
    done(4, 2); ask('done');
    assert.deepEqual(ashaPromotions(s), [[4, 2, 6], [4]]);
    assert.equal(ashaSummary(s)[4]!.status, 'completed');
    assert.ok(ashaIsDone(s));
  });

  it('refuses reports that do not match a job in flight', () => {
    let s = asha();
    s = ashaNext(s).state;
    assert.match(leftMessage(ashaReport(s, 0, 1, 0.5)), /in flight at rung 0/);
    assert.match(leftMessage(ashaReport(s, 3, 0, 0.5)), /no trial 3/);
    s = right(ashaReport(s, 0, 0, 0.5));
    assert.match(leftMessage(ashaReport(s, 0, 0, 0.5)), /no job in flight/);
  });

  it('a diverged trial (non-finite metric) is recorded as failed and never promoted', () => {
    // Trial 4 (best x) diverges at rung 0: the top third of rung 0 is then {2, 6, 8} by x = 8, 7, 6.
    const { s } = runSequential(asha(), (t, r) => (t === 4 ? NaN : monotone(t, r)));
    assert.equal(ashaSummary(s)[4]!.status, 'failed');
    assert.match(ashaSummary(s)[4]!.label, /failed at rung 0/);
    assert.deepEqual(s.trials[4]!.metrics, [null]);
    assert.ok(!ashaPromotions(s)[0]!.includes(4));
    assert.equal(ashaSummary(s).filter((t) => t.status === 'completed').length, 1);
    assert.ok(right(decodeAshaState(JSON.parse(JSON.stringify(s)))));
  });

  it('resumes from serialized state: in-flight jobs are re-issued first and the sweep ends as if never stopped', () => {
    // Uninterrupted reference with the same schedule of three workers.
    const script = (s0: AshaState, stopAfter: number | null) => {
      let s = s0;
      const inFlight: { trial: number; rung: number; resource: number }[] = [];
      const order: string[] = [];
      let steps = 0;
      const fill = () => {
        while (inFlight.length < 3) {
          const { decision, state } = ashaNext(s);
          s = state;
          if (typeof decision === 'string') return decision;
          order.push(short(decision));
          inFlight.push(decision);
        }
        return 'busy';
      };
      for (;;) {
        const status = fill();
        if (status === 'done' && inFlight.length === 0) return { s, order, stopped: false };
        if (stopAfter !== null && steps === stopAfter) return { s, order, stopped: true };
        // Completion order: the job with the largest trial id finishes first (a fixed interleaving).
        inFlight.sort((a, b) => b.trial - a.trial);
        const j = inFlight.shift()!;
        s = right(ashaReport(s, j.trial, j.rung, monotone(j.trial, j.resource)));
        steps++;
      }
    };
    const full = script(asha(), null);
    for (const stopAfter of [1, 4, 7, 10]) {
      const first = script(asha(), stopAfter);
      assert.ok(first.stopped);
      const saved = JSON.parse(JSON.stringify(first.s)) as unknown;
      const restored = ashaResume(right(decodeAshaState(saved)));
      const running = first.s.trials.filter((t) => t.running !== null).map((t) => `${t.id}@${t.running}`);
      // Before re-issue, a late ashaReport from the old worker is refused.
      const q = restored.queue[0]!;
      assert.match(leftMessage(ashaReport(restored, q.trial, q.rung, 1)), /interrupted/);
      const reissued = restored.queue.map(short);
      assert.deepEqual(reissued, running);
      const second = script(restored, null);
      assert.deepEqual(second.order.slice(0, reissued.length), reissued);
      assert.deepEqual(ashaSummary(second.s), ashaSummary(full.s));
      assert.deepEqual(ashaPromotions(second.s), ashaPromotions(full.s));
    }
    assert.match(leftMessage(decodeAshaState({ ...full.s, rungs: [1, 2, 9] })), /do not match/);
    assert.match(leftMessage(decodeAshaState({ ...full.s, version: 2 })), /ASHA state/);
  });

  it('any interleaving: each promotion was in its rung\'s top 1/eta when made, and nothing promotable is left', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(fc.nat(), { minLength: 200, maxLength: 200 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 30, maxLength: 30 }),
        (workers, trials, picks, quality) => {
          let s = asha({ trials, maxResource: 27 });
          const metric = (t: number, r: number) => quality[t]! + 0.01 * r;
          const inFlight: { trial: number; rung: number; resource: number }[] = [];
          // Independent check of a promotion from rung k: the trial's rank among reported rung-k metrics.
          const checkPromotion = (before: AshaState, trial: number, rung: number) => {
            const k = rung - 1;
            const rungK = before.trials.filter((t) => t.metrics.length > k);
            const mine = before.trials[trial]!.metrics[k]!;
            const better = rungK.filter((t) => t.metrics[k]! > mine || (t.metrics[k] === mine && t.id < trial)).length;
            assert.ok(better < Math.floor(rungK.length / 3), `trial ${trial} ranked ${better} of ${rungK.length}`);
          };
          for (let step = 0; ; step++) {
            while (inFlight.length < workers) {
              const before = s;
              const { decision, state } = ashaNext(s);
              s = state;
              if (typeof decision === 'string') break;
              if (decision.rung > 0) checkPromotion(before, decision.trial, decision.rung);
              inFlight.push(decision);
            }
            if (inFlight.length === 0) break;
            const [j] = inFlight.splice(picks[step % picks.length]! % inFlight.length, 1);
            s = right(ashaReport(s, j!.trial, j!.rung, metric(j!.trial, j!.resource)));
          }
          assert.ok(ashaIsDone(s));
          assert.equal(s.trials.length, trials);
          // Nothing left that belongs to a rung's top third without having moved up.
          for (let k = 0; k < s.rungs.length - 1; k++) {
            const rungK = s.trials.filter((t) => t.metrics.length > k).sort((a, b) => b.metrics[k]! - a.metrics[k]! || a.id - b.id);
            for (const t of rungK.slice(0, Math.floor(rungK.length / 3))) assert.ok(t.metrics.length > k + 1);
          }
          if (trials >= 27) assert.ok(ashaSummary(s).some((t) => t.status === 'completed'));
          assert.ok(ashaSummary(s).every((t) => t.status === 'completed' || t.status === 'stopped'));
        },
      ),
      { numRuns: 200, seed: 5 },
    );
  });
});

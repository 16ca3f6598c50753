/**
 * Signals arriving while native kernels run do not corrupt the process. oneDNN 2.6's JIT kernels keep
 * data below the stack pointer, where a signal handler's frame lands: before native/ deferred signals
 * around oneDNN calls (SignalsDeferred in native/common.h), both cases below aborted with glibc's
 * "corrupted size vs. prev_size" within a second. Node handles SIGINT, SIGCHLD, SIGWINCH and SIGPROF
 * (the CPU profiler) on the main thread, so a Ctrl-C or a profile must not crash a training run.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, startNode, type Child, type Exit } from './support/cli.js';

const CHILD = join(ROOT, 'spec', 'support', 'native-signal-child.ts');

/** Runs the child with extra node flags; `during` runs from the child's `ready` to its `done`. */
const runChild = async (nodeFlags: string[], reps: number, during?: (pid: number) => () => void): Promise<Child & Exit> => {
  const child = startNode(CHILD, [String(reps)], { nodeFlags });
  let stop: (() => void) | undefined;
  child.proc.stdout!.on('data', () => {
    if (stop === undefined && /^ready$/m.test(child.stdout)) stop = during?.(child.proc.pid!) ?? (() => undefined);
    // The child is exiting: a signal now would meet Node's default action, not the child's handler.
    if (/^done$/m.test(child.stdout)) stop?.();
  });
  const exit = await child.exit;
  stop?.();
  return { ...child, ...exit };
};

const explain = (o: Child & Exit): string => `exit ${o.code ?? o.signal}\nstdout: ${o.stdout}\nstderr: ${o.stderr.slice(-2000)}`;

describe('native kernels under signals', function () {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'optbench-signals-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('survive the V8 CPU profiler sampling the main thread (SIGPROF every 100 us)', async () => {
    const o = await runChild(['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir], 30);
    assert.equal(o.code, 0, explain(o));
    assert.match(o.stdout, /^done$/m, explain(o));
    // One profile per thread that runs JavaScript (tsx's module hooks run in a thread of their own).
    assert.ok(readdirSync(dir).some((f) => f.endsWith('.cpuprofile')), 'the profile was written');
  });

  it('survive a stream of handled signals sent to the process, and still handle them', async () => {
    let sent = 0;
    const o = await runChild([], 30, (pid) => {
      const timer = setInterval(() => {
        try {
          process.kill(pid, 'SIGUSR2');
          sent++;
        } catch {
          // the child has exited
        }
      }, 1);
      return () => clearInterval(timer);
    });
    assert.equal(o.code, 0, explain(o));
    assert.match(o.stdout, /^done$/m, explain(o));
    const handled = Number(/^handled (\d+)$/m.exec(o.stdout)?.[1]);
    assert.ok(sent > 50, `only ${sent} signals were sent`);
    // Signals of one kind coalesce while pending, so fewer are handled than sent; but they are handled.
    assert.ok(handled > 0, `none of ${sent} signals was handled`);
  });
});

import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { lastValueFrom, of, toArray } from 'rxjs';
import { runId as specId } from '../lib/config/spec.js';
import { persist, storePath } from '../lib/store/index.js';
import { processStart } from '../lib/store/owner.js';
import { right, left, spec, started, epoch, fullRun, useStoreDir } from './support/store.js';

describe('store: run ownership', () => {
  const { dir, open } = useStoreDir();

  it('two stores on one file: exactly one claims a run; it is free again once released', () => {
    const a = open();
    const b = open();
    const s = spec('adam');
    const id = specId(s);
    const claims = [right(a.claimRun(id, s)), right(b.claimRun(id, s))];
    assert.deepEqual(claims, ['claimed', 'busy']);
    assert.equal(right(a.claimRun(id, s)), 'claimed', 'claiming again is harmless');
    assert.equal(left(b.writeEvent(started(s)))._tag, 'StoreError', 'the other store cannot start it');
    right(a.releaseRun(id));
    assert.equal(right(b.claimRun(id, s)), 'claimed');
    assert.equal(right(a.claimRun(id, s)), 'busy');
    a.close();
    b.close();
  });

  it('a finished run is reported done and not claimed', async () => {
    const a = open();
    const s = spec('adam');
    await lastValueFrom(of(...fullRun(s)).pipe(persist(a), toArray()));
    const b = open();
    assert.equal(right(b.claimRun(specId(s), s)), 'done');
    a.close();
    b.close();
  });

  it('a lease without heartbeat expires: the run is marked interrupted and claimable, the old owner is refused', () => {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const a = open({ now, leaseMs: 60_000 });
    const b = open({ now, leaseMs: 60_000 });
    const s = spec('nadam');
    const id = specId(s);
    assert.equal(right(a.claimRun(id, s)), 'claimed');
    right(a.writeEvent(started(s)));
    right(a.writeEvent(epoch(s, 1)));
    clock += 59_000;
    assert.equal(right(b.claimRun(id, s)), 'busy');
    // persist renews the lease from BatchEnded events (every leaseMs / 4 at most).
    right(a.writeEvent({ type: 'BatchEnded', runId: id, epoch: 2, step: 5, steps: 300, loss: 1, elapsedMs: 1 }));
    const raw0 = new Database(storePath(dir()), { readonly: true });
    assert.equal((raw0.prepare('SELECT heartbeat_at AS h FROM runs').get() as { h: number }).h, clock);
    raw0.close();
    clock += 1_000;
    assert.equal(right(a.heartbeat(id)), true);
    clock += 59_000;
    assert.equal(right(b.claimRun(id, s)), 'busy', 'the heartbeat renewed the lease');
    assert.equal(right(b.listRuns())[0]!.status, 'running');
    clock += 61_000;
    assert.equal(right(b.listRuns())[0]!.status, 'interrupted', 'listed as interrupted once the lease is gone');
    assert.equal(right(b.claimRun(id, s)), 'claimed');
    const raw = new Database(storePath(dir()), { readonly: true });
    assert.equal((raw.prepare('SELECT status FROM runs').get() as { status: string }).status, 'interrupted');
    raw.close();
    const e = left(a.writeEvent(epoch(s, 2)));
    assert.equal(e._tag, 'StoreError');
    assert.match(e.message, /another optbench process|no longer holds/);
    assert.equal(right(a.heartbeat(id)), false);
    assert.equal(right(b.completedEpochs(id)), 1, 'the refused epoch was not written');
    a.close();
    b.close();
  });

  it('on this host the owner process decides: a dead pid frees the run, a live one keeps it past its lease', () => {
    let clock = 1_700_000_000_000;
    const now = () => clock;
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const s1 = spec('sgd');
    const s2 = spec('adamax');
    const ghost = open({ now, owner: { pid: dead, host: hostname(), started: null } });
    assert.equal(right(ghost.claimRun(specId(s1), s1)), 'claimed');
    const parent = open({ now, owner: { pid: process.ppid, host: hostname(), started: processStart(process.ppid) } });
    assert.equal(right(parent.claimRun(specId(s2), s2)), 'claimed');
    clock += 3_600_000;
    const me = open({ now });
    assert.equal(right(me.claimRun(specId(s1), s1)), 'claimed', 'its owner process is gone');
    assert.equal(right(me.claimRun(specId(s2), s2)), 'busy', 'its owner process is alive, however long its step');
    for (const s of [ghost, parent, me]) s.close();
  });

  it('two processes claiming the same run: exactly one wins', async function () {
    this.timeout(60_000);
    const s = spec('adam');
    const id = specId(s);
    open().close();
    const code = `
      const { openStore } = await import(${JSON.stringify(new URL('../lib/store/index.ts', import.meta.url).pathname)});
      const s = JSON.parse(process.argv[1]);
      const store = openStore(process.argv[2]);
      if (store._tag === 'Left') { console.log('error ' + store.left.message); process.exit(1); }
      const r = store.right.claimRun(process.argv[3], s);
      console.log(r._tag === 'Right' ? r.right : 'error ' + r.left.message);
      // Hold the claim until the parent has seen both answers; exit without releasing, as a crash would.
      process.stdin.on('end', () => process.exit(0));
      process.stdin.resume();`;
    const child = () => {
      const p = spawn(
        process.execPath,
        ['--import', 'tsx', '--input-type=module', '-e', code, JSON.stringify(s), storePath(dir()), id],
        { stdio: ['pipe', 'pipe', 'inherit'] },
      );
      const answer = new Promise<string>((resolve) => {
        let out = '';
        p.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('\n')) resolve(out.trim());
        });
        p.on('exit', () => resolve(out.trim()));
      });
      const exited = new Promise<void>((resolve) => p.on('exit', () => resolve()));
      return { p, answer, exited };
    };
    const kids = [child(), child()];
    const answers = (await Promise.all(kids.map((k) => k.answer))).sort();
    assert.deepEqual(answers, ['busy', 'claimed']);
    for (const k of kids) k.p.stdin.end();
    await Promise.all(kids.map((k) => k.exited));
    const me = open();
    assert.equal(right(me.claimRun(id, s)), 'claimed', 'the winner exited without releasing: its claim died with it');
    me.close();
  });

  it('markInterrupted and close leave interrupted runs behind, resumable', () => {
    const a = open();
    const s = spec('adadelta');
    const t = spec('adagrad');
    right(a.claimRun(specId(s), s));
    right(a.writeEvent(started(s)));
    right(a.writeEvent(epoch(s, 1)));
    right(a.markInterrupted(specId(s)));
    right(a.claimRun(specId(t), t));
    right(a.writeEvent(started(t)));
    a.close();
    const b = open();
    const status = new Map(right(b.listRuns()).map((r) => [r.runId, [r.status, r.owner]]));
    assert.deepEqual(status.get(specId(s)), ['interrupted', null]);
    assert.deepEqual(status.get(specId(t)), ['interrupted', null]);
    assert.equal(right(b.claimRun(specId(s), s)), 'claimed');
    b.close();
  });
});

import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkpointPath,
  deleteCheckpoint,
  nodeCheckpointIo,
  readCheckpoint,
  writeCheckpoint,
  type Checkpoint,
} from '../lib/store/checkpoint.js';
import { right, left, useStoreDir } from './support/store.js';

describe('store: checkpoints', () => {
  const { dir } = useStoreDir();

  /** Random bit patterns, so NaN payloads, -0, infinities and subnormals all occur. */
  const randomArray = (n: number, seed: number): Float32Array => {
    const bits = new Uint32Array(n);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bits[i] = x >>> 0;
    }
    bits[0] = 0x80000000; // -0
    if (n > 1) bits[1] = 0x7fc00123; // a NaN with a payload
    return new Float32Array(bits.buffer);
  };
  const state = (epochNo: number): Omit<Checkpoint, 'runId'> => ({
    epoch: epochNo,
    weights: {
      'dense_Dense1/kernel': { shape: [7, 5], values: randomArray(35, 1 + epochNo) },
      'dense_Dense1/bias': { shape: [5], values: randomArray(5, 2 + epochNo) },
      scalar: { shape: [], values: new Float32Array([1.5]) },
    },
    optimizer: {
      iteration: 300 * epochNo,
      weights: { 'dense_Dense1/kernel/m': { shape: [7, 5], values: randomArray(35, 3 + epochNo) } },
    },
    rng: { state: [123456789, 362436069, 521288629, 88675123], epoch: epochNo },
  });
  const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  const sameBits = (got: Checkpoint, want: Omit<Checkpoint, 'runId'>) => {
    assert.equal(got.epoch, want.epoch);
    assert.equal(got.optimizer.iteration, want.optimizer.iteration);
    assert.deepEqual(got.rng, want.rng);
    for (const [g, w] of [
      [got.weights, want.weights],
      [got.optimizer.weights, want.optimizer.weights],
    ] as const) {
      assert.deepEqual(Object.keys(g), Object.keys(w));
      for (const k of Object.keys(w)) {
        assert.deepEqual(g[k]!.shape, w[k]!.shape);
        assert.deepEqual(bits(g[k]!.values), bits(w[k]!.values));
      }
    }
  };
  const id = 'a1b2c3d4e5f60718';

  it('round-trips weights, optimizer state and RNG state bit for bit', () => {
    const ck = join(dir(), 'checkpoints');
    assert.equal(right(readCheckpoint(ck, id)), null, 'no checkpoint yet');
    const want = state(3);
    assert.equal(right(writeCheckpoint(ck, id, want)), checkpointPath(ck, id));
    const got = right(readCheckpoint(ck, id))!;
    assert.equal(got.runId, id);
    sameBits(got, want);
    const next = state(4);
    right(writeCheckpoint(ck, id, next));
    sameBits(right(readCheckpoint(ck, id))!, next);
    assert.deepEqual(readdirSync(ck), [`${id}.ckpt`]);
    right(deleteCheckpoint(ck, id));
    assert.equal(right(readCheckpoint(ck, id)), null);
    right(deleteCheckpoint(ck, id));
  });

  it('a truncated, damaged or foreign checkpoint is a typed error, never a crash', () => {
    const ck = join(dir(), 'checkpoints');
    right(writeCheckpoint(ck, id, state(2)));
    const file = checkpointPath(ck, id);
    const whole = readFileSync(file);
    const cuts = [0, 5, 15, 40, whole.length >> 1, whole.length - 33, whole.length - 1];
    for (const n of cuts) {
      writeFileSync(file, whole.subarray(0, n));
      const e = left(readCheckpoint(ck, id));
      assert.equal(e._tag, 'StoreError', `cut at ${n}`);
      assert.ok(e.message.includes(file));
      assert.match(e.message, /restarts from its first epoch/);
    }
    for (const at of [3, 9, 20, whole.length >> 1, whole.length - 1]) {
      const flipped = Buffer.from(whole);
      flipped[at]! ^= 0x10;
      writeFileSync(file, flipped);
      assert.equal(left(readCheckpoint(ck, id))._tag, 'StoreError', `bit flip at ${at}`);
    }
    writeFileSync(file, Buffer.concat([whole, Buffer.from([0])]));
    assert.equal(left(readCheckpoint(ck, id))._tag, 'StoreError');
    writeFileSync(file, whole);
    writeFileSync(checkpointPath(ck, 'other'), whole);
    assert.match(left(readCheckpoint(ck, 'other')).message, /belongs to run/);
  });

  it('a failed write leaves the previous checkpoint intact and no partial file', () => {
    const ck = join(dir(), 'checkpoints');
    const old = state(1);
    right(writeCheckpoint(ck, id, old));
    let calls = 0;
    const failing = {
      ...nodeCheckpointIo,
      writeSync: (fd: number, buf: Uint8Array) => {
        if (++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return nodeCheckpointIo.writeSync(fd, buf);
      },
    };
    const e = left(writeCheckpoint(ck, id, state(2), failing));
    assert.equal(e._tag, 'IoError');
    assert.equal((e as { code?: string }).code, 'ENOSPC');
    assert.match(e.message, /disk is full/);
    assert.deepEqual(readdirSync(ck), [`${id}.ckpt`], 'the temporary file is removed');
    sameBits(right(readCheckpoint(ck, id))!, old);
  });

  it('refuses state that does not describe itself', () => {
    const ck = join(dir(), 'checkpoints');
    const bad = { ...state(1), weights: { w: { shape: [2, 3], values: new Float32Array(5) } } };
    assert.match(left(writeCheckpoint(ck, id, bad)).message, /shape \[2, 3\] but 5 values/);
    assert.match(left(writeCheckpoint(ck, '../escape', state(1))).message, /cannot name a file/);
  });
});

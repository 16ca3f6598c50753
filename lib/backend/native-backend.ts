import type * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** Arrays smaller than this are cheap to allocate and are not pooled. */
const POOL_MIN_ELEMENTS = 4096;
/** Freed arrays kept for reuse, at most this many bytes (a training step's activations fit). */
const POOL_CAP_BYTES = 1 << 30;

/**
 * Free Float32Arrays by length. A fresh large array costs a zero-fill and a page fault per 4 KiB on first
 * write, several times the cost of an element-wise kernel over it; reusing a freed one of the same
 * length avoids both. Training steps allocate the same shapes every step, so nearly every request hits.
 */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private bytes = 0;
  /** Requests served from the pool and by a fresh allocation, for diagnostics. */
  hits = 0;
  misses = 0;

  constructor(private readonly capBytes: number = POOL_CAP_BYTES) {}

  /** An array of length n with undefined contents. */
  take(n: number): Float32Array {
    const hit = n >= POOL_MIN_ELEMENTS ? this.free.get(n)?.pop() : undefined;
    if (hit === undefined) {
      if (n >= POOL_MIN_ELEMENTS) this.misses++;
      return new Float32Array(n);
    }
    this.hits++;
    this.bytes -= hit.byteLength;
    return hit;
  }

  give(a: Float32Array): void {
    if (a.length < POOL_MIN_ELEMENTS || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength) return;
    if (this.bytes + a.byteLength > this.capBytes) return;
    const list = this.free.get(a.length);
    if (list === undefined) this.free.set(a.length, [a]);
    else list.push(a);
    this.bytes += a.byteLength;
  }

  get pooledBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.free.clear();
    this.bytes = 0;
  }
}

/**
 * TF.js's CPU backend (one Float32Array per tensor) under its own name, so that kernels registered for
 * `native` run and every other kernel is the JavaScript one; plus recycling of the output arrays of the
 * native kernels.
 *
 * An output array goes back to the pool when its tensor's data is disposed, unless it escaped: it was read
 * out (dataSync/data hand the array itself to the caller) or some kernel stored a view of its buffer under
 * another tensor (the JavaScript Slice returns subarrays). Ownership is therefore tracked per ArrayBuffer.
 */
export class NativeBackend extends MathBackendCPU {
  readonly pool = new BufferPool();
  private readonly owned = new WeakSet<ArrayBufferLike>();

  constructor() {
    super();
    // The CPU backend greets its first write with advice to install tfjs-node; here that is moot.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /** An output array for a native kernel; its contents are undefined. */
  alloc(n: number): Float32Array {
    return this.pool.take(n);
  }

  /** Registers a native kernel's output array as a new tensor's data, owned by the pool. */
  adopt(shape: number[], values: Float32Array): tf.TensorInfo {
    const info = this.makeTensorInfo(shape, 'float32', values);
    this.owned.add(values.buffer);
    return info;
  }

  private escape(values: unknown): void {
    if (ArrayBuffer.isView(values)) this.owned.delete(values.buffer);
  }

  override write(values: tf.backend_util.BackendValues, shape: number[], dtype: tf.DataType): tf.DataId {
    this.escape(values);
    return super.write(values, shape, dtype);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    if (this.data.has(dataId)) this.escape(this.data.get(dataId).values);
    return super.readSync(dataId);
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    const values = this.data.has(dataId) ? this.data.get(dataId).values : undefined;
    const released = super.disposeData(dataId, force);
    if (values instanceof Float32Array && !this.data.has(dataId) && this.owned.has(values.buffer)) {
      this.owned.delete(values.buffer);
      this.pool.give(values);
    }
    return released;
  }

  override dispose(): void {
    this.pool.clear();
    super.dispose();
  }
}

/**
 * The op tables of native/ops.h, the one place the codes shared by C++ and TypeScript are written: the
 * addon exports them, the TypeScript side checks them when the addon loads and takes every code from them.
 */
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs';
import * as E from 'fp-ts/lib/Either.js';
import { withOps, type RawAddon } from '../lib/backend/native-addon.js';
import { nativeAddon } from '../lib/backend/native.js';
import { nativeImplementations } from '../lib/backend/native-kernels.js';
import { setNativeConvLayout } from '../lib/backend/native-layout.js';
import { CONV_LAYOUTS, decodeOps, opCode, PRECISION_MODES, REQUIRED_OPS, type NativeOps } from '../lib/backend/native-ops.js';
import { nativePrecisionMode, setNativePrecisionMode } from '../lib/backend/native-precision.js';
import { BINARY_CASES, UNARY_CASES } from './support/elementwise.js';
import { requireNative } from './support/native.js';

/** Tables with every required name, numbered in order. */
const complete = (): Record<keyof NativeOps, Record<string, number>> =>
  Object.fromEntries(
    Object.entries(REQUIRED_OPS).map(([k, names]) => [k, Object.fromEntries(names.map((n, i) => [n, i]))]),
  ) as Record<keyof NativeOps, Record<string, number>>;

const left = <A>(e: E.Either<string, A>): string => {
  if (E.isRight(e)) assert.fail('expected the tables to be refused');
  return e.left;
};

describe('native op tables: decodeOps', () => {
  it('accepts tables with every required name, and keeps extra names', () => {
    const tables = { ...complete(), unary: { Exp: 0, Log: 1 } };
    const ops = decodeOps(tables);
    assert.ok(E.isRight(ops));
    assert.deepEqual(ops.right.unary, { Exp: 0, Log: 1 });
    assert.equal(opCode(ops.right.precision, 'bf16-emulated'), 2);
    assert.ok(Object.isFrozen(ops.right) && Object.isFrozen(ops.right.act));
  });

  it('refuses an addon without tables, naming what is missing', () => {
    assert.match(left(decodeOps(undefined)), /no op tables/);
    const { reduce: _dropped, ...rest } = complete();
    assert.match(left(decodeOps(rest)), /no table 'reduce'/);
  });

  it('names each required name a table lacks', () => {
    const tables = complete();
    delete tables.convLayout['blocked'];
    delete tables.act['tanh'];
    const why = left(decodeOps(tables));
    assert.match(why, /'act' lacks tanh/);
    assert.match(why, /'convLayout' lacks blocked/);
  });

  it('refuses codes that are not non-negative integers', () => {
    const tables = complete() as Record<string, Record<string, unknown>>;
    tables['binary'] = { Add: 0, Sub: -1, Pow: '7', Maximum: 1.5 };
    assert.match(left(decodeOps(tables)), /'binary' has codes that are not non-negative integers \(Sub, Pow, Maximum\)/);
  });

  it('opCode throws on a name the table lacks, listing the names it has', () => {
    assert.throws(() => opCode({ fp32: 0 }, 'fp16'), /no 'fp16' \(known: fp32\)/);
  });

  it('an addon with mismatched tables is refused as unavailable, with how to rebuild it', () => {
    const tables = complete();
    delete tables.precision['bf16'];
    const raw = { ops: tables } as unknown as RawAddon;
    const result = withOps(raw, '/x/build/Release/optbench_native.node');
    assert.ok(E.isLeft(result));
    assert.equal(result.left._tag, 'BackendUnavailable');
    assert.match(result.left.message, /\/x\/build\/Release\/optbench_native\.node does not match/);
    assert.match(result.left.message, /'precision' lacks bf16/);
    assert.match(result.left.message, /npm rebuild optbench/);
  });
});

describe('native op tables: the built addon', function () {
  let previous = 'cpu';
  before(async () => {
    previous = await requireNative();
  });
  after(async () => {
    setNativePrecisionMode('fp32');
    E.getOrElseW(() => assert.fail('native not loaded'))(setNativeConvLayout('auto'));
    await tf.setBackend(previous);
  });
  const ops = (): NativeOps => nativeAddon()?.ops ?? assert.fail('native not loaded');

  it('numbers each table 0..n-1, like the C++ enum made from it', () => {
    for (const [key, table] of Object.entries(ops())) {
      const codes = Object.values(table as Record<string, number>).sort((a, b) => a - b);
      assert.deepEqual(codes, [...codes.keys()], `${key}: ${JSON.stringify(table)}`);
    }
  });

  it('names only TF.js kernels in its element-wise tables, and each is registered on native', () => {
    const cpu = new Set(tf.getKernelsForBackend('cpu').map((k) => k.kernelName));
    const impls = nativeImplementations(nativeAddon()!);
    for (const name of [...Object.keys(ops().unary), ...Object.keys(ops().binary), ...Object.keys(ops().reduce)]) {
      assert.ok(cpu.has(name), `${name} is not a TF.js kernel, so no kernel would be registered for it`);
      assert.ok(impls.has(name), `${name} has no native implementation`);
      assert.ok(tf.getKernel(name, 'native') !== undefined, `${name} is not registered on native`);
    }
  });

  it('has a kernel check for every element-wise op, and a C++ op for every check', () => {
    assert.deepEqual(Object.keys(ops().unary).sort(), UNARY_CASES.map(([n]) => n).sort());
    assert.deepEqual(Object.keys(ops().binary).sort(), BINARY_CASES.map(([n]) => n).sort());
  });

  it('round-trips every precision mode through the addon by name', () => {
    for (const mode of PRECISION_MODES) {
      setNativePrecisionMode(mode);
      assert.equal(nativePrecisionMode(), mode);
      assert.equal(nativeAddon()!.getPrecision(), opCode(ops().precision, mode));
    }
  });

  it('accepts every convolution layout by name, and the C++ side refuses an unknown code', () => {
    for (const layout of CONV_LAYOUTS) assert.ok(E.isRight(setNativeConvLayout(layout)));
    const codes = Object.values(ops().convLayout);
    assert.throws(() => nativeAddon()!.setConvLayout(Math.max(...codes) + 1), /unknown conv layout code/);
  });
});

import { strict as assert } from 'node:assert';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as fc from 'fast-check';
import * as E from 'fp-ts/lib/Either.js';
import { parseIdx } from '../lib/data/index.js';

const MAX_BYTES = 1 << 16;

/** A well-formed IDX buffer: images (3 dims) or labels (1 dim), small. */
const validIdx = fc
  .oneof(
    fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })),
    fc.tuple(fc.integer({ min: 1, max: 40 })),
  )
  .chain((dims) =>
    fc.uint8Array({ minLength: dims.reduce((a, b) => a * b, 1), maxLength: dims.reduce((a, b) => a * b, 1) }).map((data) => {
      const out = new Uint8Array(4 + 4 * dims.length + data.length);
      const v = new DataView(out.buffer);
      v.setUint32(0, 0x0800 | dims.length);
      dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
      out.set(data, 4 + 4 * dims.length);
      return out;
    }),
  );

type Mutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'append'; extra: Uint8Array };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'none' }),
  fc.nat().map((at): Mutation => ({ kind: 'truncate', at })),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })).map(([at, bit]): Mutation => ({ kind: 'flip', at, bit })),
  fc.uint8Array({ minLength: 1, maxLength: 16 }).map((extra): Mutation => ({ kind: 'append', extra })),
);

const mutate = (buf: Uint8Array, m: Mutation): Uint8Array => {
  switch (m.kind) {
    case 'none':
      return buf;
    case 'truncate':
      return buf.subarray(0, buf.length === 0 ? 0 : m.at % buf.length);
    case 'flip': {
      if (buf.length === 0) return buf;
      const out = buf.slice();
      out[m.at % out.length]! ^= 1 << m.bit;
      return out;
    }
    case 'append': {
      const out = new Uint8Array(buf.length + m.extra.length);
      out.set(buf);
      out.set(m.extra, buf.length);
      return out;
    }
  }
};

/** Inputs: valid IDX mutated before or after gzip, IDX-looking random bytes, and pure random bytes. */
const input = fc.oneof(
  fc.tuple(validIdx, mutation, fc.constantFrom('raw', 'gzip-then-mutate', 'mutate-then-gzip')).map(([idx, m, how]) =>
    how === 'raw'
      ? mutate(idx, m)
      : how === 'mutate-then-gzip'
        ? new Uint8Array(gzipSync(mutate(idx, m)))
        : mutate(new Uint8Array(gzipSync(idx)), m),
  ),
  fc
    .tuple(fc.constantFrom(0x01, 0x03, 0x02, 0x04, 0x00), fc.uint8Array({ maxLength: 64 }))
    .map(([nd, rest]) => Uint8Array.from([0, 0, 8, nd, ...rest])),
  fc.uint8Array({ maxLength: 256 }),
  fc.uint8Array({ maxLength: 256 }).map((b) => Uint8Array.from([0x1f, 0x8b, ...b])),
);

/** What an independent reader says the buffer is: the IDX bytes, or undefined when gzip fails. */
const plain = (buf: Uint8Array): Uint8Array | undefined => {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return new Uint8Array(gunzipSync(buf, { maxOutputLength: MAX_BYTES }));
    } catch {
      return undefined;
    }
  }
  return buf;
};

describe('IDX parser (property)', function () {
  this.timeout(60_000);

  it('returns Left(CorruptIdx) or a header-consistent Right, and never throws', () => {
    fc.assert(
      fc.property(input, (buf) => {
        const t0 = Date.now();
        const r = parseIdx(buf, 'prop-file', { maxBytes: MAX_BYTES });
        assert.ok(Date.now() - t0 < 2000);
        const raw = plain(buf);
        if (E.isLeft(r)) {
          assert.equal(r.left._tag, 'CorruptIdx');
          assert.equal(r.left.file, 'prop-file');
          assert.ok(r.left.message.length > 0);
          if (raw === undefined) return;
          // A Left is only allowed when the plain bytes really are malformed.
          const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
          if (raw.length < 4) return;
          const magic = v.getUint32(0);
          if (magic !== 0x801 && magic !== 0x803) return;
          const nd = raw[3]!;
          if (raw.length < 4 + 4 * nd) return;
          let product = 1;
          for (let i = 0; i < nd; i++) product *= v.getUint32(4 + 4 * i);
          assert.notEqual(raw.length, 4 + 4 * nd + product, 'a well-formed buffer was refused');
          return;
        }
        assert.ok(raw !== undefined, 'accepted gzip data that zlib refuses');
        const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
        const magic = v.getUint32(0);
        assert.ok(magic === 0x801 || magic === 0x803);
        const nd = magic & 0xff;
        const dims = Array.from({ length: nd }, (_, i) => v.getUint32(4 + 4 * i));
        assert.deepEqual(r.right.dims, dims);
        assert.ok(dims.every((d) => d > 0));
        const product = dims.reduce((a, b) => a * b, 1);
        assert.equal(raw.length, 4 + 4 * nd + product);
        assert.equal(r.right.data.length, product);
        assert.ok(Buffer.from(r.right.data).equals(raw.subarray(4 + 4 * nd)));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every unmodified valid IDX, gzip or not', () => {
    fc.assert(
      fc.property(validIdx, fc.boolean(), (idx, gz) => {
        const r = parseIdx(gz ? new Uint8Array(gzipSync(idx)) : idx, 'ok-file');
        assert.ok(E.isRight(r));
      }),
      { numRuns: 100 },
    );
  });
});

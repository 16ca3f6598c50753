import { crc32, deflateSync, inflateSync } from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { internalError, type OptbenchError } from '../errors.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const chunk = (type: string, data: Buffer): Buffer => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
};

/** An 8-bit greyscale PNG of `pixels` (row-major, width * height bytes). */
export const encodeGrayPng = (width: number, height: number, pixels: Uint8Array): Buffer => {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0; // filter: none
    raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  }
  return Buffer.concat([SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
};

export const pngDataUri = (png: Buffer): string => `data:image/png;base64,${png.toString('base64')}`;

const notPng = (what: string): OptbenchError => internalError(`Not a PNG this reader handles: ${what}.`);

/** Width and height from the IHDR chunk. */
export const pngSize = (png: Uint8Array): E.Either<OptbenchError, { width: number; height: number }> => {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || !b.subarray(0, 8).equals(SIGNATURE) || b.toString('ascii', 12, 16) !== 'IHDR')
    return E.left(notPng('no PNG signature or IHDR chunk'));
  return E.right({ width: b.readUInt32BE(16), height: b.readUInt32BE(20) });
};

export interface DecodedPng {
  readonly width: number;
  readonly height: number;
  /** Samples per pixel: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA. */
  readonly channels: number;
  readonly data: Uint8Array;
}

const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 4: 2, 6: 4 };

const paeth = (a: number, b: number, c: number): number => {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
};

/** Decodes a non-interlaced 8-bit greyscale/RGB(A) PNG (what resvg and Chromium write). */
export const decodePng = (png: Uint8Array): E.Either<OptbenchError, DecodedPng> => {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) return E.left(notPng('no PNG signature'));
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let off = 8; off + 8 <= b.length; ) {
    const len = b.readUInt32BE(off);
    const type = b.toString('ascii', off + 4, off + 8);
    const data = b.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8]!;
      const colour = data[9]!;
      const interlace = data[12]!;
      channels = CHANNELS[colour] ?? 0;
      if (depth !== 8 || channels === 0 || interlace !== 0)
        return E.left(notPng(`bit depth ${depth}, colour type ${colour}, interlace ${interlace}`));
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  if (channels === 0) return E.left(notPng('no IHDR chunk'));
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) return E.left(notPng('truncated image data'));
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x]!;
      const a = x >= channels ? out[dst + x - channels]! : 0;
      const up = y > 0 ? out[dst - stride + x]! : 0;
      const c = x >= channels && y > 0 ? out[dst - stride + x - channels]! : 0;
      const pred =
        filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? up : filter === 3 ? (a + up) >> 1 : paeth(a, up, c);
      out[dst + x] = (v + pred) & 0xff;
    }
  }
  return E.right({ width, height, channels, data: out });
};

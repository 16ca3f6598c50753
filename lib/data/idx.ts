/**
 * IDX files (the MNIST format): a big-endian header `00 00 <type> <ndims>`, one uint32 per dimension,
 * then the data, row-major. Only unsigned bytes (type 0x08) with 1 dim (labels) or 3 dims (images)
 * occur in MNIST-format data sets, so anything else is refused as corrupt rather than guessed at.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { corruptIdx, type CorruptIdx } from '../errors.js';

export interface Idx {
  readonly dims: number[];
  readonly data: Uint8Array;
}

export interface ParseOptions {
  /**
   * Largest decompressed size accepted, in bytes. Fashion-MNIST's largest file is 47,040,016 bytes;
   * the cap exists so that a gzip bomb fails fast instead of exhausting memory.
   */
  readonly maxBytes?: number;
}

export const IDX_MAGIC_IMAGES = 0x00000803;
export const IDX_MAGIC_LABELS = 0x00000801;
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;

const UBYTE = 0x08;

const isGzip = (buf: Uint8Array): boolean => buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b;

const corrupt = (file: string, what: string): CorruptIdx =>
  corruptIdx({
    file,
    message:
      `${file} is not a valid IDX file: ${what}. ` +
      'Replace it with an intact copy (apt-get install --reinstall dataset-fashion-mnist, or --download).',
  });

/**
 * Gzip input (recognised by its magic bytes, whatever the file is called) is decompressed; anything
 * else is returned as is, since an IDX file always starts with two zero bytes.
 */
export const inflateIdx = (buf: Uint8Array, file: string, opts: ParseOptions = {}): E.Either<CorruptIdx, Uint8Array> => {
  if (!isGzip(buf)) return E.right(buf);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  try {
    const out = gunzipSync(buf, { maxOutputLength: maxBytes });
    return E.right(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError
        ? `it decompresses to more than ${maxBytes} bytes`
        : `its gzip data is damaged or truncated (${(e as Error).message ?? String(e)})`;
    return E.left(corrupt(file, why));
  }
};

/** Parses an uncompressed IDX buffer. */
export const parseIdxRaw = (buf: Uint8Array, file: string): E.Either<CorruptIdx, Idx> => {
  if (buf.length < 4) return E.left(corrupt(file, `it is ${buf.length} bytes long, shorter than an IDX header`));
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = view.getUint32(0, false);
  const hex = `0x${magic.toString(16).padStart(8, '0')}`;
  if (buf[0] !== 0 || buf[1] !== 0) return E.left(corrupt(file, `its magic number ${hex} does not start with two zero bytes`));
  if (buf[2] !== UBYTE)
    return E.left(corrupt(file, `its data type 0x${buf[2]!.toString(16).padStart(2, '0')} is not unsigned byte (0x08)`));
  if (magic !== IDX_MAGIC_IMAGES && magic !== IDX_MAGIC_LABELS)
    return E.left(corrupt(file, `it has ${buf[3]} dimensions (magic ${hex}); expected 3 (images, 0x00000803) or 1 (labels, 0x00000801)`));
  const ndims = buf[3]!;
  const headerBytes = 4 + 4 * ndims;
  if (buf.length < headerBytes)
    return E.left(corrupt(file, `it is truncated inside the header (${buf.length} of ${headerBytes} bytes)`));
  const dims: number[] = [];
  // The product is checked against the bytes actually present after every factor, so it can neither
  // overflow nor accept counts the file cannot hold.
  const available = buf.length - headerBytes;
  let product = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    if (d === 0) return E.left(corrupt(file, `dimension ${i} is 0`));
    product *= d;
    if (product > available)
      return E.left(
        corrupt(file, `its dimensions need at least ${product} data bytes but it is truncated: only ${available} follow the header`),
      );
    dims.push(d);
  }
  if (product < available)
    return E.left(corrupt(file, `it has ${available - product} trailing bytes after the ${product} that its dimensions [${dims.join(', ')}] describe`));
  return E.right({ dims, data: buf.subarray(headerBytes) });
};

/** Parses an IDX file's bytes, gzip'd or not. Never throws. */
export const parseIdx = (buf: Uint8Array, file: string, opts: ParseOptions = {}): E.Either<CorruptIdx, Idx> =>
  E.chain((raw: Uint8Array) => parseIdxRaw(raw, file))(inflateIdx(buf, file, opts));

/** The bytes of an unsigned-byte IDX file (used to write fixtures). */
export const encodeIdx = (dims: readonly number[], data: Uint8Array): Uint8Array => {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, (UBYTE << 8) | dims.length, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
};

/** Gzip with a zero timestamp so that the same data always gives the same bytes (and MD5). */
export const gzipIdx = (idx: Uint8Array): Uint8Array => new Uint8Array(gzipSync(idx, { level: 9 }));

export interface ImageSet {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
}

export const asImages = (idx: Idx, file: string): E.Either<CorruptIdx, ImageSet> =>
  idx.dims.length === 3
    ? E.right({ count: idx.dims[0]!, rows: idx.dims[1]!, cols: idx.dims[2]!, pixels: idx.data })
    : E.left(corrupt(file, `it holds labels (1 dimension) where images (3 dimensions) were expected`));

export const asLabels = (idx: Idx, file: string): E.Either<CorruptIdx, Uint8Array> =>
  idx.dims.length === 1
    ? E.right(idx.data)
    : E.left(corrupt(file, `it holds images (${idx.dims.length} dimensions) where labels (1 dimension) were expected`));

/** Largest label + 1 (0 for no labels). */
export const classesSeen = (labels: Uint8Array): number => {
  let max = -1;
  for (let i = 0; i < labels.length; i++) if (labels[i]! > max) max = labels[i]!;
  return max + 1;
};

/**
 * Checks that an images file and a labels file belong together, and, when `maxClasses` is given,
 * that every label names one of those classes (`why` says where that number comes from).
 */
export const checkPair = (
  images: ImageSet,
  labels: Uint8Array,
  files: { images: string; labels: string },
  maxClasses?: number,
  why = 'this data set has only',
): E.Either<CorruptIdx, { classes: number }> => {
  if (images.count !== labels.length)
    return E.left(
      corruptIdx({
        file: files.labels,
        message:
          `${files.images} has ${images.count} images but ${files.labels} has ${labels.length} labels; ` +
          'the two files come from different data sets or one is damaged. Replace them with matching copies.',
      }),
    );
  const classes = classesSeen(labels);
  if (maxClasses !== undefined && classes > maxClasses)
    return E.left(
      corruptIdx({
        file: files.labels,
        message:
          `${files.labels} has label ${classes - 1} but ${why} ${maxClasses} classes (0..${maxClasses - 1}); ` +
          'the file is damaged or belongs to another data set (choose it with --dataset NAME).',
      }),
    );
  return E.right({ classes });
};

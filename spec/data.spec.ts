import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as E from 'fp-ts/lib/Either.js';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { OptbenchFailure, isOptbenchError, type OptbenchError } from '../lib/errors.js';
import {
  FASHION_CLASSES,
  IDX_FILES,
  checkData,
  deriveSeed,
  downloadFashion,
  epochBatches,
  loadDataset,
  loadFashion$,
  locateData,
  mulberry32,
  parseIdx,
  permutation,
  subsetSplit,
  type Dataset,
  type Split,
} from '../lib/data/index.js';
import { gatherBatch } from '../lib/data/batches.js';
import { FASHION_GZ_MD5, parseMd5Sums } from '../lib/data/download.js';
import { checkPair } from '../lib/data/idx.js';
import { defaultCacheDir } from '../lib/data/locate.js';
import { uniformBelow } from '../lib/data/rng.js';

const FIXTURE = resolve('fixtures/fashion-mini');
const SYSTEM = '/usr/share/datasets/fashion-mnist';
const NAMES = Object.values(IDX_FILES);

const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
/** Damages one byte in place; a position outside the buffer is a mistake in the test itself. */
const flipByte = (b: Uint8Array, at: number, mask: number): void => {
  const byte = b[at];
  if (byte === undefined) throw new Error(`flipByte: no byte ${at} in ${b.length}`);
  b[at] = byte ^ mask;
};
const bytes = (path: string): Uint8Array => new Uint8Array(readFileSync(path));

/** An independent IDX reader: plain zlib and DataView, no code under test. */
const refRead = (path: string): { dims: number[]; data: Uint8Array } => {
  const raw = new Uint8Array(gunzipSync(readFileSync(path)));
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const nd = raw[3]!;
  const dims = Array.from({ length: nd }, (_, i) => v.getUint32(4 + 4 * i));
  return { dims, data: raw.subarray(4 + 4 * nd) };
};

/** Builds an IDX buffer by hand. */
const idxBytes = (magic: number, dims: number[], data: Uint8Array | number = 0, trailing = 0): Uint8Array => {
  const len = typeof data === 'number' ? data : data.length;
  const out = new Uint8Array(4 + 4 * dims.length + len + trailing);
  const v = new DataView(out.buffer);
  v.setUint32(0, magic);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d));
  if (typeof data !== 'number') out.set(data, 4 + 4 * dims.length);
  return out;
};

const left = <A>(r: E.Either<OptbenchError, A>): OptbenchError => {
  if (E.isRight(r)) assert.fail('expected a Left');
  return r.left;
};
const right = <A>(r: E.Either<OptbenchError, A>): A => {
  if (E.isLeft(r)) assert.fail(`expected a Right, got ${r.left._tag}: ${r.left.message}`);
  return r.right;
};

let tmp: string;
const fresh = (name: string): string => {
  const d = join(tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
};
/** A copy of the fixture directory, optionally without MD5SUMS or with uncompressed files. */
const fixtureCopy = (name: string, opts: { md5sums?: boolean; gunzip?: boolean } = {}): string => {
  const d = fresh(name);
  for (const n of NAMES) {
    if (opts.gunzip) writeFileSync(join(d, n), gunzipSync(readFileSync(join(FIXTURE, `${n}.gz`))));
    else copyFileSync(join(FIXTURE, `${n}.gz`), join(d, `${n}.gz`));
  }
  if (opts.md5sums !== false) copyFileSync(join(FIXTURE, 'MD5SUMS'), join(d, 'MD5SUMS'));
  return d;
};
const NO_SYSTEM = { env: {}, systemRoot: '/nonexistent-optbench-root' };

/** A temporary directory for the calling describe's tests (`fresh`, `fixtureCopy`, `tmp`), removed after them. */
const useTmp = (): void => {
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'optbench-data-'));
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));
};

describe('data: IDX parsing', () => {
  it('parses the fixture files with the header fields an independent reader sees', () => {
    const expectDims: Record<string, number[]> = {
      [IDX_FILES.trainImages]: [500, 28, 28],
      [IDX_FILES.trainLabels]: [500],
      [IDX_FILES.testImages]: [150, 28, 28],
      [IDX_FILES.testLabels]: [150],
    };
    for (const n of NAMES) {
      const path = join(FIXTURE, `${n}.gz`);
      const ref = refRead(path);
      const got = right(parseIdx(bytes(path), path));
      assert.deepEqual(got.dims, expectDims[n]);
      assert.deepEqual(got.dims, ref.dims);
      assert.equal(md5(got.data), md5(ref.data));
    }
  });

  it('accepts uncompressed input with the same result', () => {
    const path = join(FIXTURE, `${IDX_FILES.testLabels}.gz`);
    const raw = new Uint8Array(gunzipSync(readFileSync(path)));
    const a = right(parseIdx(raw, 'raw'));
    const b = right(parseIdx(bytes(path), path));
    assert.deepEqual(a.dims, b.dims);
    assert.deepEqual([...a.data], [...b.data]);
  });

  it('reads a hand-built header', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
    const got = right(parseIdx(idxBytes(0x803, [2, 3, 4], data), 'x'));
    assert.deepEqual(got.dims, [2, 3, 4]);
    assert.deepEqual([...got.data], [...data]);
  });

  it('fixture images are real Fashion-MNIST images, spread over the classes', function () {
    this.timeout(60_000);
    const indices = JSON.parse(readFileSync(join(FIXTURE, 'indices.json'), 'utf8')) as { train: number[]; test: number[] };
    for (const [split, img, lbl] of [
      ['train', IDX_FILES.trainImages, IDX_FILES.trainLabels],
      ['test', IDX_FILES.testImages, IDX_FILES.testLabels],
    ] as const) {
      const fixImg = refRead(join(FIXTURE, `${img}.gz`)).data;
      const fixLbl = refRead(join(FIXTURE, `${lbl}.gz`)).data;
      const srcImg = refRead(join(SYSTEM, `${img}.gz`)).data;
      const srcLbl = refRead(join(SYSTEM, `${lbl}.gz`)).data;
      const idx = indices[split];
      assert.equal(idx.length, fixLbl.length);
      idx.forEach((j, i) => {
        assert.equal(fixLbl[i], srcLbl[j]);
        assert.ok(Buffer.from(fixImg.subarray(i * 784, (i + 1) * 784)).equals(srcImg.subarray(j * 784, (j + 1) * 784)));
      });
      const perClass = new Array<number>(10).fill(0);
      fixLbl.forEach((c) => perClass[c]!++);
      assert.deepEqual(perClass, new Array(10).fill(split === 'train' ? 50 : 15));
    }
    assert.ok(readdirSync(FIXTURE).reduce((s, f) => s + readFileSync(join(FIXTURE, f)).length, 0) < 300_000);
  });

  const corrupt = (buf: Uint8Array, fragment: RegExp, opts = {}) => {
    const e = left(parseIdx(buf, 'bad-file', opts));
    assert.equal(e._tag, 'CorruptIdx');
    assert.equal((e as { file: string }).file, 'bad-file');
    assert.match(e.message, /bad-file/);
    assert.match(e.message, fragment);
  };

  it('refuses a truncated file (raw and gzip)', () => {
    const good = idxBytes(0x803, [3, 4, 4], new Uint8Array(48).fill(9));
    corrupt(good.subarray(0, good.length - 1), /truncated/);
    corrupt(good.subarray(0, 10), /truncated inside the header/);
    corrupt(good.subarray(0, 2), /shorter than an IDX header/);
    corrupt(new Uint8Array(0), /shorter than an IDX header/);
    const gz = gzipSync(good);
    corrupt(gz.subarray(0, gz.length - 6), /gzip data is damaged or truncated/);
    corrupt(gzipSync(good.subarray(0, good.length - 5)), /truncated/);
  });

  it('refuses a wrong magic number, data type or number of dimensions', () => {
    corrupt(idxBytes(0x01000803, [1, 1, 1], 1), /magic number 0x01000803/);
    corrupt(idxBytes(0x0903, [1, 1, 1], 4), /data type 0x09/);
    corrupt(idxBytes(0x0802, [2, 2], 4), /2 dimensions/);
    corrupt(idxBytes(0x0804, [1, 1, 1, 1], 1), /4 dimensions/);
  });

  it('refuses zero, oversized and overflowing dimensions', () => {
    corrupt(idxBytes(0x803, [0, 28, 28], 0), /dimension 0 is 0/);
    corrupt(idxBytes(0x801, [5], 3), /truncated: only 3/);
    corrupt(idxBytes(0x803, [0xffffffff, 0xffffffff, 0xffffffff], 16), /truncated/);
    corrupt(idxBytes(0x803, [60000, 28, 28], 100), /at least 60000 data bytes/);
  });

  it('refuses trailing bytes', () => {
    corrupt(idxBytes(0x801, [4], new Uint8Array(4), 3), /3 trailing bytes/);
    corrupt(gzipSync(idxBytes(0x803, [1, 2, 2], new Uint8Array(4), 1)), /1 trailing bytes/);
  });

  it('refuses bad gzip data and a gzip bomb', () => {
    const gz = new Uint8Array(gzipSync(idxBytes(0x801, [100], new Uint8Array(100).fill(3))));
    flipByte(gz, gz.length - 10, 0xff); // inside the deflate stream or CRC
    corrupt(gz, /gzip/);
    corrupt(Uint8Array.from([0x1f, 0x8b, 1, 2, 3]), /gzip data is damaged/);
    const bomb = gzipSync(new Uint8Array(4 * 1024 * 1024));
    const t0 = Date.now();
    corrupt(bomb, /decompresses to more than 1048576 bytes/, { maxBytes: 1 << 20 });
    assert.ok(Date.now() - t0 < 5000);
  });

  it('checks that images and labels belong together', () => {
    const images = { count: 3, rows: 1, cols: 1, pixels: new Uint8Array(3) };
    const files = { images: 'i', labels: 'l' };
    assert.match(left(checkPair(images, Uint8Array.from([1, 2]), files, 10)).message, /3 images but l has 2 labels/);
    assert.match(left(checkPair(images, Uint8Array.from([1, 10, 2]), files, 10)).message, /label 10 .* only 10 classes/);
    assert.deepEqual(right(checkPair(images, Uint8Array.from([1, 12, 2]), files)), { classes: 13 });
  });
});

describe('data: locating', () => {
  useTmp();
  it('searches explicit > OPTBENCH_DATA > system > cache', async () => {
    const root = fresh('order');
    const explicit = fixtureCopy('order/explicit');
    const env = fixtureCopy('order/env');
    const system = fixtureCopy('order/sys/fashion-mnist');
    const cache = fixtureCopy('order/cache');
    const base = { systemRoot: join(root, 'sys'), cacheDir: cache };
    const at = async (o: object) => right(await locateData({ ...base, ...o }));
    assert.equal((await at({ dir: explicit, env: { OPTBENCH_DATA: env } })).source, 'explicit');
    assert.equal((await at({ dir: explicit, env: { OPTBENCH_DATA: env } })).dir, explicit);
    assert.equal((await at({ env: { OPTBENCH_DATA: env } })).dir, env);
    const sys = await at({ env: {} });
    assert.equal(sys.dir, system);
    assert.equal(sys.source, 'system');
    assert.equal(sys.files.trainImages, join(system, `${IDX_FILES.trainImages}.gz`));
    rmSync(join(system, `${IDX_FILES.testLabels}.gz`));
    const c = await at({ env: {} });
    assert.equal(c.dir, cache);
    assert.equal(c.source, 'cache');
    assert.deepEqual(c.searched.map((s) => s.dir), [system, cache]);
  });

  it('finds files without .gz', async () => {
    const d = fixtureCopy('plain', { gunzip: true, md5sums: false });
    const got = right(await locateData({ dir: d }));
    assert.equal(got.files.testLabels, join(d, IDX_FILES.testLabels));
    const ds = right(await loadDataset({ dir: d, dataset: 'mnist' }));
    assert.equal(ds.test.count, 150);
  });

  it('a missing data set names apt-get, --download and --data-dir', async () => {
    const cache = join(tmp, 'no-cache');
    const e = left(await locateData({ ...NO_SYSTEM, cacheDir: cache }));
    assert.equal(e._tag, 'DatasetMissing');
    assert.deepEqual((e as { searched: readonly string[] }).searched, ['/nonexistent-optbench-root/fashion-mnist', cache]);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.match(e.message, /--download/);
    assert.match(e.message, /--data-dir/);
    const viaLoad = left(await loadDataset({ ...NO_SYSTEM, cacheDir: cache }));
    assert.equal(viaLoad._tag, 'DatasetMissing');
  });

  it('an explicit directory that is missing or incomplete is an error naming it and the file', async () => {
    const gone = join(tmp, 'does-not-exist');
    const e1 = left(await locateData({ dir: gone }));
    assert.equal(e1._tag, 'DatasetMissing');
    assert.match(e1.message, new RegExp(`${gone} does not exist`));
    const partial = fixtureCopy('partial');
    rmSync(join(partial, `${IDX_FILES.trainLabels}.gz`));
    const e2 = left(await locateData({ dir: partial }));
    assert.match(e2.message, new RegExp(`${partial} lacks train-labels-idx1-ubyte`));
    assert.match(e2.message, /apt-get install dataset-fashion-mnist/);
    const e3 = left(await locateData({ env: { OPTBENCH_DATA: partial } }));
    assert.match(e3.message, /OPTBENCH_DATA=/);
    const file = join(partial, 'MD5SUMS');
    assert.match(left(await locateData({ dir: file })).message, /is not a directory/);
  });

  it('the cache directory follows XDG_CACHE_HOME, else ~/.cache', () => {
    assert.equal(defaultCacheDir('fashion-mnist', { XDG_CACHE_HOME: '/x/c' }, '/home/u'), '/x/c/optbench/fashion-mnist');
    assert.equal(defaultCacheDir('mnist', {}, '/home/u'), '/home/u/.cache/optbench/mnist');
  });
});

describe('data: verifying and loading', () => {
  useTmp();
  it('loads the fixture, verified by its MD5SUMS, scaled x/255', async () => {
    const ds = right(await loadDataset({ dir: FIXTURE, dataset: 'fashion-mini' }));
    assert.equal(ds.verified, true);
    assert.equal(ds.name, 'fashion-mini');
    assert.deepEqual(ds.classNames, FASHION_CLASSES);
    assert.equal(ds.train.count, 500);
    assert.equal(ds.test.count, 150);
    assert.equal(ds.train.rows, 28);
    const ref = refRead(join(FIXTURE, `${IDX_FILES.trainImages}.gz`)).data;
    assert.equal(ds.train.images.length, ref.length);
    for (let i = 0; i < ref.length; i += 97) assert.equal(ds.train.images[i], Math.fround(ref[i]! / 255));
    assert.deepEqual([...ds.test.labels], [...refRead(join(FIXTURE, `${IDX_FILES.testLabels}.gz`)).data]);
  });

  it('another name without MD5SUMS loads unverified with digit class names', async () => {
    const d = fixtureCopy('nosums', { md5sums: false });
    const ds = right(await loadDataset({ dir: d, dataset: 'mnist' }));
    assert.equal(ds.verified, false);
    assert.deepEqual(ds.classNames, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  it('fashion-mnist checks the published sums: the fixture is a ChecksumMismatch', async () => {
    const path = join(FIXTURE, `${IDX_FILES.trainImages}.gz`);
    const e = left(await loadDataset({ dir: FIXTURE }));
    assert.equal(e._tag, 'ChecksumMismatch');
    const m = e as { file: string; expected: string; actual: string };
    assert.equal(m.file, path);
    assert.match(m.expected, /8d4fb7e6c68d591d4c3dfef9ec88bf0d/);
    assert.match(m.actual, new RegExp(md5(bytes(path))));
    assert.match(e.message, /--download|reinstall/i);
  });

  it('a file that does not match MD5SUMS is a ChecksumMismatch', async () => {
    const d = fixtureCopy('tampered');
    const name = `${IDX_FILES.testLabels}.gz`;
    const raw = new Uint8Array(gunzipSync(readFileSync(join(d, name))));
    raw[20] = (raw[20]! + 1) % 10;
    writeFileSync(join(d, name), gzipSync(raw));
    const e = left(await loadDataset({ dir: d, dataset: 'fashion-mini' }));
    assert.equal(e._tag, 'ChecksumMismatch');
    assert.equal((e as { file: string }).file, join(d, name));
    assert.match(e.message, /MD5SUMS/);
  });

  it('parses MD5SUMS in md5sum format', () => {
    const s = parseMd5Sums('D41D8CD98F00B204E9800998ECF8427E  a.gz\n0123456789abcdef0123456789abcdef *b\nnot a line\n');
    assert.deepEqual(s, { a: ['d41d8cd98f00b204e9800998ecf8427e'], b: ['0123456789abcdef0123456789abcdef'] });
  });

  it('labels beyond the classes of Fashion-MNIST are refused; other sets report their classes', async () => {
    const d = fixtureCopy('bad-labels', { md5sums: false });
    const name = `${IDX_FILES.trainLabels}.gz`;
    const raw = new Uint8Array(gunzipSync(readFileSync(join(d, name))));
    raw[8] = 12;
    writeFileSync(join(d, name), gzipSync(raw));
    const e = left(await loadDataset({ dir: d, dataset: 'fashion-mini' }));
    assert.equal(e._tag, 'CorruptIdx');
    assert.match(e.message, /label 12/);
    const ds = right(await loadDataset({ dir: d, dataset: 'other' }));
    assert.equal(ds.classNames.length, 13);
  });

  it('mismatched image and label counts are refused', async () => {
    const d = fixtureCopy('counts', { md5sums: false });
    copyFileSync(join(FIXTURE, `${IDX_FILES.testLabels}.gz`), join(d, `${IDX_FILES.trainLabels}.gz`));
    const e = left(await loadDataset({ dir: d, dataset: 'x' }));
    assert.equal(e._tag, 'CorruptIdx');
    assert.match(e.message, /500 images .* 150 labels/);
  });

  it('loadFashion$ emits one Dataset, and errors with an OptbenchFailure carrying the OptbenchError value', async () => {
    const all = await lastValueFrom(loadFashion$({ dir: FIXTURE, dataset: 'fashion-mini' }).pipe(toArray()));
    assert.equal(all.length, 1);
    assert.equal(all[0]!.train.count, 500);
    const err = await firstValueFrom(loadFashion$({ dir: join(tmp, 'nowhere') })).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof OptbenchFailure, String(err));
    assert.ok(err instanceof Error);
    assert.ok(isOptbenchError(err.error));
    assert.equal(err.error._tag, 'DatasetMissing');
    assert.equal(err._tag, 'DatasetMissing');
    assert.match(err.stack ?? '', /DatasetMissing|nowhere/);
  });

  it('checkData reports every file and what is wrong, without failing', async () => {
    const d = fixtureCopy('check');
    const ok = right(await checkData({ dir: d, dataset: 'fashion-mini' }));
    assert.equal(ok.ok, true);
    assert.equal(ok.checksums, 'MD5SUMS');
    assert.deepEqual(ok.files.map((f) => f.status), ['verified', 'verified', 'verified', 'verified']);
    assert.equal(ok.files[0]!.md5, md5(bytes(join(d, `${IDX_FILES.trainImages}.gz`))));
    assert.equal(ok.files[0]!.size, readFileSync(join(d, `${IDX_FILES.trainImages}.gz`)).length);
    assert.deepEqual(ok.train, { count: 500, rows: 28, cols: 28 });
    assert.equal(ok.classesSeen, 10);
    const gz = readFileSync(join(d, `${IDX_FILES.testImages}.gz`));
    writeFileSync(join(d, `${IDX_FILES.testImages}.gz`), gz.subarray(0, 1000));
    const bad = right(await checkData({ dir: d, dataset: 'fashion-mini' }));
    assert.equal(bad.ok, false);
    assert.deepEqual(bad.files.map((f) => f.status), ['verified', 'verified', 'corrupt', 'verified']);
    assert.equal(bad.test, undefined);
    assert.ok(bad.problems.length >= 1);
    const missing = await checkData({ dir: join(tmp, 'nowhere') });
    assert.equal(left(missing)._tag, 'DatasetMissing');
  });

  it('the Debian data set loads: 60000 + 10000 images, verified', async function () {
    this.timeout(120_000);
    // Debian recompressed the files, so their .gz sums differ from the published ones; the IDX bytes inside are the published ones.
    assert.notEqual(md5(bytes(join(SYSTEM, `${IDX_FILES.trainLabels}.gz`))), FASHION_GZ_MD5[IDX_FILES.trainLabels]);
    const ds: Dataset = right(await loadDataset({ dir: SYSTEM }));
    assert.equal(ds.verified, true);
    assert.equal(ds.train.count, 60000);
    assert.equal(ds.test.count, 10000);
    assert.equal(ds.train.images.length, 60000 * 784);
    assert.deepEqual(ds.classNames, FASHION_CLASSES);
    const ref = refRead(join(SYSTEM, `${IDX_FILES.testImages}.gz`)).data;
    for (let i = 0; i < ref.length; i += 9973) assert.equal(ds.test.images[i], Math.fround(ref[i]! / 255));
    const counts = new Array<number>(10).fill(0);
    ds.train.labels.forEach((c) => counts[c]!++);
    assert.deepEqual(counts, new Array(10).fill(6000)); // Fashion-MNIST is balanced
  });
});

describe('data: download', () => {
  useTmp();
  let server: Server;
  let baseUrl: string;
  let corruptName = '';
  let missingName = '';
  const served: string[] = [];
  before(async () => {
    server = createServer((req, res) => {
      const name = (req.url ?? '/').slice(1);
      served.push(name);
      if (!NAMES.map((n) => `${n}.gz`).includes(name) || name === missingName) {
        res.writeHead(404).end();
        return;
      }
      const body = readFileSync(join(FIXTURE, name));
      if (name === corruptName) flipByte(body, body.length >> 1, 0x55);
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const addr = server.address() as { port: number };
    baseUrl = `http://127.0.0.1:${addr.port}/`;
  });
  after(() => new Promise<void>((ok) => server.close(() => ok())));
  beforeEach(() => {
    corruptName = '';
    missingName = '';
    served.length = 0;
  });
  const sums = () => parseMd5Sums(readFileSync(join(FIXTURE, 'MD5SUMS'), 'utf8'));

  it('fetches and verifies the four files', async () => {
    const cache = join(tmp, 'dl-ok');
    const got = right(await downloadFashion(cache, { baseUrl, checksums: sums() }));
    assert.equal(got.fetched.length, 4);
    assert.deepEqual(readdirSync(cache).sort(), NAMES.map((n) => `${n}.gz`).sort());
    for (const n of NAMES) assert.equal(md5(bytes(join(cache, `${n}.gz`))), md5(bytes(join(FIXTURE, `${n}.gz`))));
    const again = right(await downloadFashion(cache, { baseUrl, checksums: sums() }));
    assert.equal(again.kept.length, 4);
    assert.equal(again.fetched.length, 0);
  });

  it('a corrupted response is a ChecksumMismatch and leaves nothing in the cache', async () => {
    corruptName = `${IDX_FILES.testImages}.gz`;
    const cache = join(tmp, 'dl-corrupt');
    const e = left(await downloadFashion(cache, { baseUrl, checksums: sums() }));
    assert.equal(e._tag, 'ChecksumMismatch');
    assert.equal((e as { file: string }).file, baseUrl + corruptName);
    assert.match(e.message, /Nothing was saved/);
    assert.deepEqual(readdirSync(cache), []);
  });

  it('the published sums refuse other bytes', async () => {
    const cache = join(tmp, 'dl-published');
    const e = left(await downloadFashion(cache, { baseUrl }));
    assert.equal(e._tag, 'ChecksumMismatch');
    assert.deepEqual(readdirSync(cache), []);
  });

  it('an HTTP error is an IoError and leaves nothing in the cache', async () => {
    missingName = `${IDX_FILES.testLabels}.gz`;
    const cache = join(tmp, 'dl-404');
    const e = left(await downloadFashion(cache, { baseUrl, checksums: sums() }));
    assert.equal(e._tag, 'IoError');
    assert.match(e.message, /HTTP 404/);
    assert.match(e.message, /apt-get install dataset-fashion-mnist/);
    assert.deepEqual(readdirSync(cache), []);
  });

  it('loadDataset with download fetches into the cache when the data is missing', async () => {
    const cache = join(tmp, 'dl-load');
    const ds = right(
      await loadDataset({ ...NO_SYSTEM, dataset: 'fashion-mini', download: true, cacheDir: cache, baseUrl, downloadChecksums: sums() }),
    );
    assert.equal(ds.dir, cache);
    assert.equal(ds.train.count, 500);
    assert.ok(existsSync(join(cache, `${IDX_FILES.trainImages}.gz`)));
    const e = left(await loadDataset({ ...NO_SYSTEM, dataset: 'mnist', download: true, cacheDir: join(tmp, 'dl-x') }));
    assert.equal(e._tag, 'InvalidConfig');
  });
});

describe('data: seeded randomness', () => {
  const isPermutation = (p: Uint32Array, n: number) => {
    assert.equal(p.length, n);
    const seen = new Uint8Array(n);
    for (const v of p) {
      assert.ok(v < n && seen[v] === 0);
      seen[v] = 1;
    }
  };

  it('permutation is a permutation, deterministic, and depends on the seed', () => {
    for (const n of [0, 1, 2, 17, 1000, 60000]) isPermutation(permutation(n, 42), n);
    assert.deepEqual(permutation(1000, 7), permutation(1000, 7));
    assert.notDeepEqual(permutation(1000, 7), permutation(1000, 8));
  });

  it('permutations of 3 are uniform (chi-square over 6000 seeds)', () => {
    const counts = new Map<string, number>();
    for (let s = 0; s < 6000; s++) {
      const k = [...permutation(3, deriveSeed(s))].join('');
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    assert.equal(counts.size, 6);
    const chi2 = [...counts.values()].reduce((a, c) => a + (c - 1000) ** 2 / 1000, 0);
    assert.ok(chi2 < 25.7, `chi2 = ${chi2}`); // 99.99th percentile of chi-square with 5 degrees of freedom
  });

  it('below rejects the biased low draws', () => {
    const draws = [5, 2 ** 31 + 3];
    const rng = () => draws.shift()!;
    // 2^32 mod (2^31 + 1) = 2^31 - 1, so 5 is rejected and 2^31 + 3 maps to 2.
    assert.equal(uniformBelow(rng, 2 ** 31 + 1), 2);
  });

  it('mulberry32 draws are uint32 with mean near 2^31', () => {
    const rng = mulberry32(123);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = rng();
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
      sum += v / 2 ** 32;
    }
    assert.ok(Math.abs(sum / 100_000 - 0.5) < 0.005);
    const a = mulberry32(9);
    const b = mulberry32(9);
    for (let i = 0; i < 10; i++) assert.equal(a(), b());
  });

  it('deriveSeed is a deterministic 32-bit hash that separates its inputs', () => {
    assert.equal(deriveSeed(1, 2, 3), deriveSeed(1, 2, 3));
    assert.equal(deriveSeed(0), deriveSeed(-0));
    const distinct = new Set([deriveSeed(1, 2), deriveSeed(2, 1), deriveSeed(1, 2, 0), deriveSeed(1), deriveSeed(), deriveSeed(2 ** 40 + 1, 2)]);
    assert.equal(distinct.size, 6);
    const seeds = new Set<number>();
    for (let s = 0; s < 100; s++)
      for (let e = 0; e < 100; e++) {
        const v = deriveSeed(s, e);
        assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
        seeds.add(v);
      }
    assert.ok(seeds.size >= 9999); // expected collisions among 10^4 32-bit values: about 0.01
  });
});

describe('data: batches', () => {
  const split = (n: number): Split => {
    const images = new Float32Array(n * 4);
    for (let i = 0; i < images.length; i++) images[i] = i;
    return { images, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n, rows: 2, cols: 2 };
  };

  it('covers every index once per epoch, keeping the last partial batch', () => {
    const batches = [...epochBatches({ count: 500 }, { batchSize: 200, seed: 1, epoch: 0 })];
    assert.deepEqual(batches.map((b) => b.indices.length), [200, 200, 100]);
    assert.deepEqual(batches.map((b) => b.start), [0, 200, 400]);
    assert.deepEqual(batches.map((b) => b.step), [0, 1, 2]);
    const all = batches.flatMap((b) => [...b.indices]).sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 500 }, (_, i) => i));
  });

  it('reshuffles every epoch, deterministically from (seed, epoch)', () => {
    const order = (seed: number, epoch: number) => [...epochBatches({ count: 300 }, { batchSize: 64, seed, epoch })].flatMap((b) => [...b.indices]);
    assert.deepEqual(order(3, 1), order(3, 1));
    assert.notDeepEqual(order(3, 1), order(3, 2));
    assert.notDeepEqual(order(3, 1), order(4, 1));
    assert.deepEqual(order(3, 5), [...permutation(300, deriveSeed(3, 5))]);
  });

  it('draws only from a subset when given one', () => {
    const subset = [5, 9, 11, 40, 41, 99, 100];
    const got = [...epochBatches({ count: 200 }, { batchSize: 3, seed: 1, epoch: 0, subset })].flatMap((b) => [...b.indices]);
    assert.deepEqual([...got].sort((a, b) => a - b), subset);
  });

  it('gatherBatch copies the chosen examples, reusing buffers of the right size', () => {
    const s = split(10);
    const b = gatherBatch(s, [7, 2, 7]);
    assert.deepEqual([...b.x], [28, 29, 30, 31, 8, 9, 10, 11, 28, 29, 30, 31]);
    assert.deepEqual([...b.y], [7, 2, 7]);
    const again = gatherBatch(s, [0, 1, 2], b);
    assert.equal(again.x, b.x);
    assert.deepEqual([...again.x], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    assert.notEqual(gatherBatch(s, [0], b).x, b.x);
  });

  it('subsetSplit takes the first n of a seeded permutation', () => {
    const s = split(50);
    const sub = right(subsetSplit(s, 20, 9));
    const chosen = permutation(50, 9).subarray(0, 20);
    assert.equal(sub.count, 20);
    chosen.forEach((j, i) => {
      assert.equal(sub.labels[i], j % 10);
      assert.equal(sub.images[i * 4], j * 4);
    });
    assert.equal(left(subsetSplit(s, 51, 9))._tag, 'InvalidConfig');
    assert.equal(left(subsetSplit(s, 0, 9))._tag, 'InvalidConfig');
  });
});

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import * as E from 'fp-ts/lib/Either.js';
import * as t from 'io-ts';
import { NonNegativeInt } from '../config/numbers.js';
import { reportErrors } from '../config/spec.js';
import { internalError, ioError, storeError, type OptbenchError } from '../errors.js';

/**
 * A run's state after an epoch, as plain data (no TF.js tensors, so it can be written and tested without
 * training). Resuming from it must train exactly as the uninterrupted run would have.
 */
export interface TensorData {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}
/** Name -> values. Order is kept as Object.entries gives it (integer-like names come first in JavaScript). */
export type NamedArrays = Readonly<Record<string, TensorData>>;

export type CheckpointJson = null | boolean | number | string | readonly CheckpointJson[] | { readonly [k: string]: CheckpointJson };

export interface Checkpoint {
  readonly runId: string;
  /** Epochs completed (1-based): training resumes with epoch `epoch + 1`. */
  readonly epoch: number;
  readonly weights: NamedArrays;
  readonly optimizer: { readonly iteration: number; readonly weights: NamedArrays };
  /** Whatever the trainer needs to continue its random streams (e.g. a generator's state words). */
  readonly rng: CheckpointJson;
}

/** The file operations a checkpoint write uses; tests substitute failing ones. */
export interface CheckpointIo {
  readonly openSync: typeof fs.openSync;
  readonly writeSync: (fd: number, buffer: Uint8Array) => number;
  readonly fsyncSync: typeof fs.fsyncSync;
  readonly closeSync: typeof fs.closeSync;
  readonly renameSync: typeof fs.renameSync;
  readonly unlinkSync: typeof fs.unlinkSync;
}

export const nodeCheckpointIo: CheckpointIo = {
  openSync: fs.openSync,
  writeSync: (fd, buffer) => fs.writeSync(fd, buffer),
  fsyncSync: fs.fsyncSync,
  closeSync: fs.closeSync,
  renameSync: fs.renameSync,
  unlinkSync: fs.unlinkSync,
};

const MAGIC = Buffer.from('OPTBCKPT', 'latin1');
const FORMAT = 1;
const PREFIX = MAGIC.length + 8;
const HASH = 32;

export const checkpointPath = (dir: string, runId: string): string => join(dir, `${runId}.ckpt`);
/** `<out>/checkpoints`. */
export const checkpointDir = (outDir: string): string => join(outDir, 'checkpoints');

const Header = t.type({
  runId: t.string,
  epoch: NonNegativeInt,
  iteration: NonNegativeInt,
  rng: t.unknown,
  tensors: t.array(t.type({ group: t.keyof({ weights: null, optimizer: null }), name: t.string, shape: t.array(NonNegativeInt) })),
});
type Header = t.TypeOf<typeof Header>;

const isCount = (n: number) => Number.isInteger(n) && n >= 0;
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const safeName = (runId: string) => /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(runId);

const writeError = (file: string, u: unknown): OptbenchError => {
  const code = (u as NodeJS.ErrnoException | null)?.code;
  const what =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'the disk is full: free some space and run the same command again (finished work is kept)'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'permission denied: choose a directory you can write (--out DIR) or fix its permissions'
        : `${u instanceof Error ? u.message : String(u)}`;
  return ioError({ file, ...(code !== undefined ? { code } : {}), message: `${file}: could not write the checkpoint: ${what}.` });
};

const entries = (c: Checkpoint) => [
  ...Object.entries(c.weights).map(([name, d]) => ({ group: 'weights' as const, name, d })),
  ...Object.entries(c.optimizer.weights).map(([name, d]) => ({ group: 'optimizer' as const, name, d })),
];

const invalid = (c: Checkpoint): string | null => {
  if (!safeName(c.runId)) return `run id '${c.runId}' cannot name a file`;
  if (!isCount(c.epoch)) return `epoch ${c.epoch} is not a non-negative integer`;
  if (!isCount(c.optimizer.iteration)) return `optimizer iteration ${c.optimizer.iteration} is not a non-negative integer`;
  for (const { group, name, d } of entries(c)) {
    if (!(d.values instanceof Float32Array)) return `${group} '${name}' is not a Float32Array`;
    if (!d.shape.every(isCount) || size(d.shape) !== d.values.length)
      return `${group} '${name}' has shape [${d.shape.join(', ')}] but ${d.values.length} values`;
  }
  return null;
};

/** Removes temporary files a crashed writer left for this run (only one process holds a run at a time). */
const removeTemps = (dir: string, runId: string, io: CheckpointIo) => {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names)
    if (n.startsWith(`${runId}.ckpt.tmp-`))
      try {
        io.unlinkSync(join(dir, n));
      } catch {
        // Gone already, or not ours to remove: either way it is never read.
      }
};

/**
 * A checkpoint's bytes, in pieces: magic, format, header length (u32 LE), a JSON header, the float32 payload
 * and a SHA-256 of all that. Files and the queue's shared store hold the same format.
 */
const checkpointChunks = (c: Checkpoint): E.Either<OptbenchError, Uint8Array[]> => {
  const bad = invalid(c);
  if (bad !== null) return E.left(internalError(`Cannot checkpoint run ${c.runId}: ${bad}.`));
  const list = entries(c);
  const header: Header = {
    runId: c.runId,
    epoch: c.epoch,
    iteration: c.optimizer.iteration,
    rng: c.rng,
    tensors: list.map(({ group, name, d }) => ({ group, name, shape: [...d.shape] })),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(FORMAT, MAGIC.length);
  prefix.writeUInt32LE(json.length, MAGIC.length + 4);
  const chunks: Uint8Array[] = [prefix, json, ...list.map(({ d }) => new Uint8Array(d.values.buffer, d.values.byteOffset, d.values.byteLength))];
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return E.right([...chunks, hash.digest()]);
};

/** A checkpoint as one buffer (for a store other than files, e.g. the queue's Redis). */
export const encodeCheckpoint = (c: Checkpoint): E.Either<OptbenchError, Buffer> => E.map((chunks: Uint8Array[]) => Buffer.concat(chunks))(checkpointChunks(c));

/**
 * Writes `<dir>/<runId>.ckpt` (see checkpointChunks for the format). It goes to a temporary file that is
 * fsync'd and then renamed over the old checkpoint, so a crash at any moment leaves either the previous
 * checkpoint or the new one, never a mix.
 */
export const writeCheckpoint = (
  dir: string,
  runId: string,
  state: Omit<Checkpoint, 'runId'>,
  io: CheckpointIo = nodeCheckpointIo,
): E.Either<OptbenchError, string> => {
  const chunks = checkpointChunks({ ...state, runId });
  if (E.isLeft(chunks)) return chunks;
  const file = checkpointPath(dir, runId);

  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (u) {
    return E.left(writeError(dir, u));
  }
  removeTemps(dir, runId, io);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = io.openSync(tmp, 'w', 0o644);
    for (const chunk of chunks.right) for (let off = 0; off < chunk.length; ) off += io.writeSync(fd!, chunk.subarray(off));
    io.fsyncSync(fd);
    io.closeSync(fd);
    fd = undefined;
    io.renameSync(tmp, file);
  } catch (u) {
    if (fd !== undefined)
      try {
        io.closeSync(fd);
      } catch {
        // The write already failed; that error is the one to report.
      }
    try {
      io.unlinkSync(tmp);
    } catch {
      // Never created, or already gone.
    }
    return E.left(writeError(file, u));
  }
  // The rename is durable only once the directory entry is on disk; some file systems refuse to fsync a directory.
  try {
    const dfd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(dfd);
    } finally {
      fs.closeSync(dfd);
    }
  } catch {
    // Best effort: the checkpoint itself is complete.
  }
  return E.right(file);
};

const unusable = (file: string, runId: string, why: string): OptbenchError =>
  storeError({
    file,
    message: `Checkpoint ${file} is unusable (${why}): run ${runId} cannot resume from it and restarts from its first epoch.`,
  });

/** Reads a checkpoint's bytes (`source` names where they came from, for messages). */
export const decodeCheckpoint = (file: string, runId: string, buf: Buffer): E.Either<OptbenchError, Checkpoint> => {
  const bad = (why: string) => E.left(unusable(file, runId, why));
  if (buf.length < PREFIX + HASH) return bad(`truncated: ${buf.length} bytes`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) return bad('not an optbench checkpoint');
  const format = buf.readUInt32LE(MAGIC.length);
  if (format !== FORMAT) return bad(`format ${format}, this optbench reads format ${FORMAT}`);
  const headerBytes = buf.readUInt32LE(MAGIC.length + 4);
  if (PREFIX + headerBytes + HASH > buf.length)
    return bad(`truncated: ${buf.length} bytes, the header alone needs ${PREFIX + headerBytes + HASH}`);
  let raw: unknown;
  try {
    raw = JSON.parse(buf.subarray(PREFIX, PREFIX + headerBytes).toString('utf8'));
  } catch {
    return bad('damaged header');
  }
  const decoded = Header.decode(raw);
  if (E.isLeft(decoded)) return bad(`damaged header: ${reportErrors(decoded.left, 'checkpoint header').message.replace(/\.$/, '')}`);
  const h = decoded.right;
  const floats = h.tensors.reduce((n, x) => n + size(x.shape), 0);
  const expected = PREFIX + headerBytes + 4 * floats + HASH;
  if (buf.length < expected) return bad(`truncated: ${buf.length} of ${expected} bytes`);
  if (buf.length > expected) return bad(`${buf.length - expected} bytes too many`);
  const digest = createHash('sha256').update(buf.subarray(0, buf.length - HASH)).digest();
  if (!digest.equals(buf.subarray(buf.length - HASH))) return bad('checksum mismatch: the file was damaged');
  if (h.runId !== runId) return bad(`it belongs to run ${h.runId}`);

  const weights: Record<string, TensorData> = {};
  const optimizer: Record<string, TensorData> = {};
  let off = PREFIX + headerBytes;
  for (const x of h.tensors) {
    const n = size(x.shape);
    // A copy: aligned, and independent of the file's buffer.
    const values = new Float32Array(n);
    new Uint8Array(values.buffer).set(buf.subarray(off, off + 4 * n));
    off += 4 * n;
    (x.group === 'weights' ? weights : optimizer)[x.name] = { shape: x.shape, values };
  }
  return E.right({
    runId,
    epoch: h.epoch,
    weights,
    optimizer: { iteration: h.iteration, weights: optimizer },
    rng: h.rng as CheckpointJson,
  });
};

/** The run's last checkpoint; null when it has none; a typed error when it is damaged (the run then restarts). */
export const readCheckpoint = (dir: string, runId: string): E.Either<OptbenchError, Checkpoint | null> => {
  const file = checkpointPath(dir, runId);
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (u) {
    const code = (u as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return E.right(null);
    return E.left(
      ioError({
        file,
        ...(code !== undefined ? { code } : {}),
        message:
          `${file}: cannot read the checkpoint (${u instanceof Error ? u.message : String(u)}): fix its ` +
          `permissions, or delete it to restart run ${runId} from its first epoch.`,
      }),
    );
  }
  return decodeCheckpoint(file, runId, buf);
};

/** Removes a finished run's checkpoint (and any temporary file a crash left); a missing one is fine. */
export const deleteCheckpoint = (dir: string, runId: string, io: CheckpointIo = nodeCheckpointIo): E.Either<OptbenchError, void> => {
  const file = checkpointPath(dir, runId);
  removeTemps(dir, runId, io);
  try {
    io.unlinkSync(file);
  } catch (u) {
    if ((u as NodeJS.ErrnoException).code !== 'ENOENT') return E.left(writeError(file, u));
  }
  return E.right(undefined);
};

/**
 * Every failure optbench reports is a value of one tagged union. Operators emit these (in an fp-ts
 * `Either`, or as the error of an Observable); the CLI prints `message` and never a stack trace.
 */

interface Base<T extends string> {
  readonly _tag: T;
  /** A sentence that says what was wrong and what to do about it. */
  readonly message: string;
}

export interface DatasetMissing extends Base<'DatasetMissing'> {
  readonly searched: readonly string[];
}
export interface ChecksumMismatch extends Base<'ChecksumMismatch'> {
  readonly file: string;
  readonly expected: string;
  readonly actual: string;
}
export interface CorruptIdx extends Base<'CorruptIdx'> {
  readonly file: string;
}
export interface InvalidConfig extends Base<'InvalidConfig'> {
  /** Path of the offending field, e.g. `optimizer.overrides.lr`. */
  readonly path: string;
}
export interface UnknownName extends Base<'UnknownName'> {
  readonly kind: 'model' | 'optimizer' | 'preset' | 'backend' | 'task' | 'hyperparameter' | 'command' | 'option' | 'report format';
  readonly name: string;
  readonly suggestion?: string;
}
export interface BackendUnavailable extends Base<'BackendUnavailable'> {
  readonly backend: string;
}
export interface Diverged extends Base<'Diverged'> {
  readonly epoch: number;
  readonly step: number;
  readonly loss: number;
}
export interface StoreError extends Base<'StoreError'> {
  readonly file: string;
  /** For a row that does not decode: the path of the bad column or field (`spec.optimizer.name`). */
  readonly field?: string;
}
export interface IoError extends Base<'IoError'> {
  readonly file: string;
  readonly code?: string;
  /** For a file whose contents do not decode: the path of the bad field in it (`epochs[2].train.loss`). */
  readonly field?: string;
}
export interface Interrupted extends Base<'Interrupted'> {}
export interface InternalError extends Base<'InternalError'> {
  readonly cause?: unknown;
}
/** The queue of runs (Redis) cannot be reached, refused us, or holds something unusable. */
export interface QueueError extends Base<'QueueError'> {
  /** The queue's URL with any password blanked out. */
  readonly url: string;
}
/** The workers training a run died (were killed, lost their machine) more often than the queue allows. */
export interface WorkerLost extends Base<'WorkerLost'> {
  /** How many workers lost the run. */
  readonly attempts: number;
}

export type OptbenchError =
  | DatasetMissing
  | ChecksumMismatch
  | CorruptIdx
  | InvalidConfig
  | UnknownName
  | BackendUnavailable
  | Diverged
  | StoreError
  | IoError
  | Interrupted
  | InternalError
  | QueueError
  | WorkerLost;

export type ErrorTag = OptbenchError['_tag'];

type Fields<E extends OptbenchError> = Omit<E, '_tag'>;

export const datasetMissing = (f: Fields<DatasetMissing>): DatasetMissing => ({ _tag: 'DatasetMissing', ...f });
export const checksumMismatch = (f: Fields<ChecksumMismatch>): ChecksumMismatch => ({ _tag: 'ChecksumMismatch', ...f });
export const corruptIdx = (f: Fields<CorruptIdx>): CorruptIdx => ({ _tag: 'CorruptIdx', ...f });
export const invalidConfig = (f: Fields<InvalidConfig>): InvalidConfig => ({ _tag: 'InvalidConfig', ...f });
export const unknownName = (f: Fields<UnknownName>): UnknownName => ({ _tag: 'UnknownName', ...f });
export const backendUnavailable = (f: Fields<BackendUnavailable>): BackendUnavailable => ({
  _tag: 'BackendUnavailable',
  ...f,
});
export const diverged = (f: Fields<Diverged>): Diverged => ({ _tag: 'Diverged', ...f });
export const storeError = (f: Fields<StoreError>): StoreError => ({ _tag: 'StoreError', ...f });
export const ioError = (f: Fields<IoError>): IoError => ({ _tag: 'IoError', ...f });
export const interrupted = (message: string): Interrupted => ({ _tag: 'Interrupted', message });
export const queueError = (f: Fields<QueueError>): QueueError => ({ _tag: 'QueueError', ...f });
export const workerLost = (f: Fields<WorkerLost>): WorkerLost => ({ _tag: 'WorkerLost', ...f });
export const internalError = (message: string, cause?: unknown): InternalError => ({
  _tag: 'InternalError',
  message,
  cause,
});

const TAGS: ReadonlySet<string> = new Set<ErrorTag>([
  'DatasetMissing',
  'ChecksumMismatch',
  'CorruptIdx',
  'InvalidConfig',
  'UnknownName',
  'BackendUnavailable',
  'Diverged',
  'StoreError',
  'IoError',
  'Interrupted',
  'InternalError',
  'QueueError',
  'WorkerLost',
]);

export const isOptbenchError = (u: unknown): u is OptbenchError =>
  typeof u === 'object' &&
  u !== null &&
  TAGS.has((u as { _tag?: unknown })._tag as string) &&
  typeof (u as { message?: unknown }).message === 'string';

/**
 * A name or path as error messages show it: control characters (newlines, escapes, ...) written as
 * `\n`, `\u001b`, so that a message stays one line and cannot move the terminal's cursor.
 */
export const printable = (s: string): string =>
  s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

/** What a file-system error code means, in words, for every message that names a path. */
export const fsCause = (code: string | undefined): string | undefined => {
  switch (code) {
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EROFS':
      return 'the file system is read-only';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'it does not exist';
    case 'ENOTDIR':
      return 'part of its path is a file, not a directory';
    case 'EISDIR':
      return 'it is a directory, not a file';
    case 'EEXIST':
      return 'it already exists';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files are open';
    case 'EIO':
      return 'the device reported an input/output error';
    default:
      return undefined;
  }
};

/** What to do about a file-system error, after its cause. */
const fsAdvice = (code: string): string =>
  code === 'ENOSPC' || code === 'EDQUOT'
    ? ': free some space and run the same command again (finished work is kept)'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
      ? ': choose a directory you can write (--out DIR) or fix its permissions'
      : '';

/** Wraps anything thrown by foreign code (TF.js, Node) so that it travels as an OptbenchError. */
/**
 * An OptbenchError as an Error, for where a value has to be thrown: an Observable's error channel (RxJS
 * users expect `instanceof Error` and a stack there). It carries the tagged value as `error`, and its
 * fields too (`_tag`, `message`, `path`, ...), so a handler can read either; `toOptbenchError` unwraps it.
 */
export class OptbenchFailure extends Error {
  readonly _tag: OptbenchError['_tag'];
  constructor(readonly error: OptbenchError) {
    super(error.message);
    this.name = `OptbenchError(${error._tag})`;
    this._tag = error._tag;
    const { message: _m, ...fields } = error as OptbenchError & Record<string, unknown>;
    Object.assign(this, fields);
  }
}

export const toOptbenchError = (u: unknown): OptbenchError => {
  if (u instanceof OptbenchFailure) return u.error;
  if (isOptbenchError(u)) return u;
  if (u instanceof Error) {
    const code = (u as NodeJS.ErrnoException).code;
    const path = (u as NodeJS.ErrnoException).path;
    if (code !== undefined && path !== undefined) {
      const cause = fsCause(code);
      const what = cause !== undefined ? `${cause}${fsAdvice(code)}` : u.message;
      return ioError({ file: path, code, message: `${printable(path)}: ${what}` });
    }
    return internalError(u.message, u);
  }
  return internalError(String(u), u);
};

/** Levenshtein distance, for "did you mean" suggestions. */
const distance = (a: string, b: string): number => {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
};

/** The nearest of `candidates` to `name`, when it is near enough to be a likely typo. */
export const nearest = (name: string, candidates: readonly string[]): string | undefined => {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(name.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 2)) ? best : undefined;
};

/** An UnknownName error whose message lists the valid names and suggests the nearest. */
export const unknown = (kind: UnknownName['kind'], name: string, candidates: readonly string[]): UnknownName => {
  const suggestion = nearest(name, candidates);
  const hint = suggestion !== undefined ? ` Did you mean '${suggestion}'?` : '';
  return unknownName({
    kind,
    name,
    ...(suggestion !== undefined ? { suggestion } : {}),
    message: `Unknown ${kind} '${printable(name)}'.${hint} Valid ${kind}s: ${candidates.join(', ')}.`,
  });
};

import { readFileSync } from 'node:fs';
import * as E from 'fp-ts/lib/Either.js';
import { pipe } from 'fp-ts/lib/function.js';
import type * as t from 'io-ts';
import { fsCause, ioError, printable, type IoError } from '../errors.js';
import { reportErrors } from './spec.js';

/** How a JSON file optbench reads back is named in messages, and what to do when it cannot be used. */
export interface JsonFileOptions {
  /** What the file holds: `run record`, `sweep record`. */
  readonly what: string;
  /** One sentence saying what to do about a file that cannot be used. */
  readonly remedy: string;
  /** How messages name the file (`runs/fcnn-adam-s0-….json`); its path when absent. */
  readonly shown?: string;
}

/**
 * The value of JSON `text` (the contents of `file`) as `codec` decodes it. A value that does not decode is
 * an IoError naming the file and, as `field` and in its message, the path of the first bad field and what
 * it must be (`runs/x.json: Invalid run record: epochs[2].train.loss must be a number, got "x". <remedy>`).
 */
export const decodeJsonText =
  <A>(codec: t.Decoder<unknown, A>, file: string, o: JsonFileOptions) =>
  (text: string): E.Either<IoError, A> =>
    pipe(
      E.tryCatch(
        () => JSON.parse(text) as unknown,
        () => ioError({ file, message: `${printable(o.shown ?? file)}: incomplete or invalid JSON (still being written?). ${o.remedy}` }),
      ),
      E.flatMap(decodeFileValue(codec, file, o)),
    );

/** A value parsed from `file`, decoded by `codec` (see decodeJsonText for the error). */
export const decodeFileValue =
  <A>(codec: t.Decoder<unknown, A>, file: string, o: JsonFileOptions) =>
  (u: unknown): E.Either<IoError, A> =>
    pipe(
      codec.decode(u),
      E.mapLeft((errs) => {
        const bad = reportErrors(errs, o.what);
        return ioError({ file, field: bad.path, message: `${printable(o.shown ?? file)}: ${bad.message} ${o.remedy}` });
      }),
    );

/** Reads `file` and decodes it (see decodeJsonText); a file that cannot be read is an IoError saying why. */
export const readJsonFile = <A>(file: string, codec: t.Decoder<unknown, A>, o: JsonFileOptions): E.Either<IoError, A> =>
  pipe(
    E.tryCatch(
      () => readFileSync(file, 'utf8'),
      (u) => {
        const code = (u as NodeJS.ErrnoException).code;
        const why = fsCause(code) ?? (u instanceof Error ? u.message : String(u));
        return ioError({ file, ...(code !== undefined ? { code } : {}), message: `${printable(o.shown ?? file)} cannot be read (${why}). ${o.remedy}` });
      },
    ),
    E.flatMap(decodeJsonText(codec, file, o)),
  );

import * as E from 'fp-ts/lib/Either.js';
import { backendUnavailable, type BackendUnavailable } from '../errors.js';

/** Placeholder until the native backend lands: always unavailable. */
export const loadNative = async (): Promise<E.Either<BackendUnavailable, void>> =>
  E.left(
    backendUnavailable({
      backend: 'native',
      message: "The 'native' backend is not built in this version of optbench. Use --backend cpu.",
    }),
  );

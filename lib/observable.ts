import * as E from 'fp-ts/lib/Either.js';
import { of, throwError, type Observable } from 'rxjs';
import { OptbenchFailure, type OptbenchError } from './errors.js';

/** An Observable that fails with `error` (as an OptbenchFailure: an Error carrying the tagged value). */
export const raise = (error: OptbenchError): Observable<never> => throwError(() => new OptbenchFailure(error));

/** An Either as an Observable: its Right as one value, or its Left on the error channel. */
export const fromEither = <A>(ea: E.Either<OptbenchError, A>): Observable<A> => (E.isRight(ea) ? of(ea.right) : raise(ea.left));

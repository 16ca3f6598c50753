import { tap, type Observable } from 'rxjs';
import type { StreamEvent } from '../train/events.js';
import { isSweepEvent } from './events.js';
import { formatPoint } from './search.js';

/**
 * One line per search decision worth telling (a search starts, what it chose, what is retrained) on
 * `log` (stderr by default); the trials' own progress is `showProgress`'s. Every event passes through.
 */
export const logSearches =
  (log: (line: string) => void = (l) => void process.stderr.write(`${l}\n`)) =>
  <E extends StreamEvent>(source: Observable<E>): Observable<E> =>
    source.pipe(
      tap((e) => {
        if (!isSweepEvent(e)) return;
        switch (e.type) {
          case 'SearchStarted': {
            const c = e.config;
            log(`Search: ${c.model}/${c.optimizer}, ${c.strategy}, ${e.trials} trials, validation on the last ${c.holdout} training images${e.resumed ? ' (continued)' : ''}`);
            return;
          }
          case 'SearchEnded': {
            const r = e.result;
            if (r.interrupted) return;
            log(
              r.best === null
                ? `Search ${r.config.optimizer}: no trial completed its full budget; nothing to retrain.`
                : `Search ${r.config.optimizer}: chose trial ${r.best + 1}, ${formatPoint(r.trials[r.best]!.point)}`,
            );
            return;
          }
          case 'RetrainStarted':
            log(
              `Retraining the chosen configuration${e.groups.length > 1 ? 's' : ''} on all training images, ${e.seeds} seed${e.seeds === 1 ? '' : 's'}, evaluated on the test set`,
            );
            return;
          default:
            return;
        }
      }),
    );

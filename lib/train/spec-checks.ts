import * as E from 'fp-ts/lib/Either.js';
import { runDisplayLabel, type RunSpec } from '../config/spec.js';
import { dataDigest, isPinned, unpinnedFile } from '../data/identity.js';
import { IDX_FILES } from '../data/locate.js';
import type { Dataset } from '../data/types.js';
import { invalidConfig, type InvalidConfig } from '../errors.js';

/**
 * A spec is what a run is, and its id is the spec's hash: so the spec must say what the run trains on.
 * These checks hold a spec against the data it is given; the trainer refuses a spec that misstates it.
 */

type DataFacts = Pick<Dataset, 'name' | 'dir' | 'md5'>;

/** The spec's data set is the loaded one: same name, and the same contents (pinned by name, or by digest). */
export const checkSpecData = (spec: Pick<RunSpec, 'dataset' | 'data'>, data: DataFacts, who: string): E.Either<InvalidConfig, void> => {
  if (spec.dataset !== data.name)
    return E.left(
      invalidConfig({
        path: 'dataset',
        message:
          `${who} says dataset '${spec.dataset}' but the data it is given is '${data.name}' (${data.dir}): a run's spec ` +
          `names what it trains on. Plan the grid for the data you load (dataset: '${data.name}'), or load '${spec.dataset}'.`,
      }),
    );
  const off = unpinnedFile(data.name, data.md5);
  if (off !== undefined)
    return E.left(
      invalidConfig({
        path: 'dataset',
        message:
          `${who} trains on '${data.name}', but the data given under that name is not it: ${IDX_FILES[off]} in ${data.dir} has ` +
          `contents with MD5 ${data.md5[off]}. Load the real '${data.name}', or give this data a name of its own.`,
      }),
    );
  const digest = isPinned(data.name) ? undefined : dataDigest(data.md5);
  if (spec.data !== digest)
    return E.left(
      invalidConfig({
        path: 'data',
        message:
          digest === undefined
            ? `${who} gives data digest ${spec.data} for '${data.name}', whose name already pins its contents: leave 'data' out.`
            : `${who} says data ${spec.data === undefined ? '(no digest)' : spec.data} but '${data.name}' from ${data.dir} has digest ${digest}: ` +
              `'${data.name}' does not pin its contents by name, so a spec for it carries their digest. Plan it from the ` +
              `loaded data (fitPlanToData, or trainGrid with a GridPlan), which fills it in.`,
      }),
    );
  return E.right(undefined);
};

/** The spec's backend is the one that will compute it. */
export const checkSpecBackend = (spec: Pick<RunSpec, 'backend'>, active: string, who: string): E.Either<InvalidConfig, void> =>
  spec.backend === active
    ? E.right(undefined)
    : E.left(
        invalidConfig({
          path: 'backend',
          message:
            `${who} says backend '${spec.backend}' but it would be computed by '${active}', the active backend: ` +
            `activate '${spec.backend}' (useBackend), or plan the run for '${active}'.`,
        }),
      );

/** Both checks, for a run about to train here. */
export const checkSpecAgainst = (spec: RunSpec, data: DataFacts, active: string): E.Either<InvalidConfig, void> => {
  const who = `The spec of ${runDisplayLabel(spec)}`;
  return E.flatMap(checkSpecData(spec, data, who), () => checkSpecBackend(spec, active, who));
};

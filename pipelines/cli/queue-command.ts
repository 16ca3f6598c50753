/** `optbench queue status|clean --queue URL [--json]`. */
import * as E from 'fp-ts/lib/Either.js';
import { invalidConfig, type OptbenchError } from '../../lib/errors.js';
import { connectQueue } from '../../lib/queue/client.js';
import { cleanQueue, formatStatus, queueStatus } from '../../lib/queue/status.js';
import { parseOptions } from './options.js';

const QUEUE_OPTIONS = { queue: { type: 'string' }, json: { type: 'boolean' } } as const;

export const queueCommand = async (argv: readonly string[], fail: (e: OptbenchError) => number): Promise<number> => {
  const p = parseOptions(argv, QUEUE_OPTIONS);
  if (E.isLeft(p)) return fail(p.left);
  const sub = p.right.positionals[0];
  if (sub !== 'status' && sub !== 'clean')
    return fail(invalidConfig({ path: 'queue', message: `Usage: optbench queue status|clean --queue redis://HOST:PORT [--json] (got '${sub ?? ''}').` }));
  const url = p.right.values.queue;
  if (typeof url !== 'string') return fail(invalidConfig({ path: 'queue', message: `optbench queue ${sub} needs --queue redis://HOST:PORT.` }));
  const client = await connectQueue(url, { persistent: false });
  if (E.isLeft(client)) return fail(client.left);
  try {
    if (sub === 'status') {
      const s = await queueStatus(client.right);
      process.stdout.write(p.right.values.json === true ? `${JSON.stringify(s)}\n` : formatStatus(s));
    } else {
      const n = await cleanQueue(client.right);
      process.stdout.write(p.right.values.json === true ? `${JSON.stringify({ removed: n })}\n` : `removed ${n} finished run${n === 1 ? '' : 's'} from the queue\n`);
    }
    return 0;
  } finally {
    await client.right.close();
  }
};

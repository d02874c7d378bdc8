import type { ConcernContext } from '../core/concern.ts';
import type { Job } from './job.ts';

/**
 * A job whose implementation (and what it imports: the AWS SDK for the users
 * sync from SSM) loads at its first run, so a daemon where it is not
 * configured never holds it. `intervalMs` must answer as the loaded job's does
 * (tested), without loading it.
 */
export function lazyJob(name: string, intervalMs: (context: ConcernContext) => number | null, load: () => Promise<Job>): Job {
  return { name, intervalMs, run: async (context) => (await load()).run(context) };
}

import { eventsJob } from '../jobs/events.ts';
import { metricsJob } from '../jobs/metrics.ts';
import { createSpotInterruptionJob } from '../jobs/spot-interruption.ts';
import { updatesJob } from '../jobs/updates.ts';
import type { Job } from './job.ts';
import { lazyJob } from './lazy-job.ts';

/** Configured only with USERS_SOURCE, as src/jobs/users-sync.ts says (tested). */
export const usersSyncJob = lazyJob(
  'users-sync',
  (context) => (context.config.USERS_SOURCE === null ? null : context.config.USERS_SYNC_INTERVAL),
  async () => (await import('../jobs/users-sync.ts')).usersSyncJob,
);

/** Every recurring job of the daemon, besides the periodic converge. */
export const JOBS: readonly Job[] = [metricsJob, eventsJob, usersSyncJob, updatesJob, createSpotInterruptionJob()];

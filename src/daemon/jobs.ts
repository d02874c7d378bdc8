import { updatesJob } from '../concerns/updates/job.ts';
import { eventsJob } from '../control/events-job.ts';
import { createSpotInterruptionJob } from '../decommission/spot.ts';
import { metricsJob } from '../metrics/job.ts';
import type { Job } from './job.ts';
import { lazyJob } from './lazy-job.ts';

/** Configured only with USERS_SOURCE, as src/concerns/users/job.ts says (tested). */
export const usersSyncJob = lazyJob(
  'users-sync',
  (context) => (context.config.USERS_SOURCE === null ? null : context.config.USERS_SYNC_INTERVAL),
  async () => (await import('../concerns/users/job.ts')).usersSyncJob,
);

/** Every recurring job of the daemon, besides the periodic converge. */
export const JOBS: readonly Job[] = [metricsJob, eventsJob, usersSyncJob, updatesJob, createSpotInterruptionJob()];

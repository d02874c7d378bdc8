import { updatesJob } from '../concerns/updates/job.ts';
import { usersSyncJob } from '../concerns/users/job.ts';
import { eventsJob } from '../control/events-job.ts';
import { createSpotInterruptionJob } from '../decommission/spot.ts';
import { metricsJob } from '../metrics/job.ts';
import type { Job } from './job.ts';

/** Every recurring job of the daemon, besides the periodic converge. */
export const JOBS: readonly Job[] = [metricsJob, eventsJob, usersSyncJob, updatesJob, createSpotInterruptionJob()];

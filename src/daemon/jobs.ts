import type { Job } from '../core/job.ts';
import { updatesJob } from '../concerns/updates/job.ts';
import { usersSyncJob } from '../concerns/users/job.ts';
import { eventsJob } from '../control/events-job.ts';
import { spotInterruptionJob } from '../decommission/spot.ts';
import { metricsJob } from '../metrics/job.ts';
import { convergeJob } from './converge-job.ts';

/** Every recurring job of the daemon, besides the periodic converge (tasks.ts puts it first). */
export const JOBS: readonly Job[] = [metricsJob, eventsJob, usersSyncJob, updatesJob, spotInterruptionJob];

/** The job a job process runs (the daemon's internal `job` command), by name; the converge included. */
export function jobNamed(name: string): Job | undefined {
  return [convergeJob, ...JOBS].find((job) => job.name === name);
}

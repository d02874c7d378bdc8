import { convergeJob } from '../jobs/converge.ts';
import { eventsJob } from '../jobs/events.ts';
import { metricsJob } from '../jobs/metrics.ts';
import { spotInterruptionJob } from '../jobs/spot-interruption.ts';
import { updatesJob } from '../jobs/updates.ts';
import { usersSyncJob } from '../jobs/users-sync.ts';
import type { Job } from './job.ts';

/** Every recurring job of the daemon, besides the periodic converge (tasks.ts puts it first). */
export const JOBS: readonly Job[] = [metricsJob, eventsJob, usersSyncJob, updatesJob, spotInterruptionJob];

/** The job a job process runs (the daemon's internal `job` command), by name; the converge included. */
export function jobNamed(name: string): Job | undefined {
  return [convergeJob, ...JOBS].find((job) => job.name === name);
}

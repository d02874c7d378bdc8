import type { ConcernContext } from '../core/concern.ts';
import type { Job, JobContext, JobResult } from './job.ts';
import { convergeJob } from '../jobs/converge.ts';
import { type JobProcess, runInOwnProcess } from './job-process.ts';
import { defaultRetry, type Task } from './scheduler.ts';

/** Jobs that must never wait behind a long converge; everything else changes the system and takes turns. */
const READ_ONLY_JOBS = new Set(['metrics', 'events', 'spot-interruption']);

/** The context for a task's next run: `fresh` also re-reads the OS facts; `task` names who asks. */
export type CurrentContext = (task: string, fresh: boolean) => Promise<ConcernContext>;

/**
 * The daemon's tasks under `context`'s configuration: the periodic full converge,
 * then every configured job. Each run gets a fresh context, so a reload applies
 * to the next run of every task; the daemon also makes the tasks again from the
 * reloaded configuration (which run, how often). The converge also re-reads the
 * OS facts the jobs share. A job that asks for a process of its own gets one when
 * `jobProcess` says how to start it (the daemon as installed); otherwise it runs
 * in the daemon (tests on the fake Host).
 */
export function daemonTasks(
  current: CurrentContext,
  context: ConcernContext,
  jobs: readonly Job[],
  jobProcess: JobProcess | null = null,
): Task[] {
  const tasks: Task[] = [];
  for (const job of [convergeJob, ...jobs]) {
    const intervalMs = job.intervalMs(context);
    if (intervalMs === null) continue;
    tasks.push({
      name: job.name,
      intervalMs,
      exclusive: !READ_ONLY_JOBS.has(job.name),
      retry: (job.retry ?? defaultRetry)(intervalMs),
      run: async (signal) => runJob(job, { ...(await current(job.name, job.freshFacts === true)), signal }, jobProcess),
    });
  }
  return tasks;
}

function runJob(job: Job, context: JobContext, jobProcess: JobProcess | null): Promise<JobResult> {
  return job.ownProcess && jobProcess !== null ? runInOwnProcess(jobProcess, job, context) : job.run(context);
}

import type { ConcernContext } from '../core/concern.ts';
import { applyAll } from '../core/runner.ts';
import { describeRegistration } from '../ecs-agent/describe-registration.ts';
import type { Job } from './job.ts';
import { defaultRetry, type Task, TaskFailure, type TaskOutcome } from './scheduler.ts';

/** Jobs that must never wait behind a long converge; everything else changes the system and takes turns. */
const READ_ONLY_JOBS = new Set(['metrics', 'events', 'spot-interruption']);

/**
 * A failed converge (at first boot: the network or a mirror not ready yet) is
 * retried after 30 s, then 1, 2, 4 … minutes up to CONVERGE_INTERVAL, not only
 * an interval later: the host joins the cluster soon after the cause is gone.
 */
export const CONVERGE_FIRST_RETRY_MS = 30_000;

/** The context for a task's next run: `fresh` also re-reads the OS facts; `task` names who asks. */
export type CurrentContext = (task: string, fresh: boolean) => Promise<ConcernContext>;

/**
 * The daemon's tasks under `context`'s configuration: the periodic full converge,
 * then every configured job. Each run gets a fresh context, so a reload applies
 * to the next run of every task; the daemon also makes the tasks again from the
 * reloaded configuration (which run, how often). The converge also re-reads the
 * OS facts the jobs share.
 */
export function daemonTasks(current: CurrentContext, context: ConcernContext, jobs: readonly Job[]): Task[] {
  const tasks: Task[] = [];
  const convergeEvery = context.config.CONVERGE_INTERVAL;
  if (convergeEvery !== null) {
    tasks.push({
      name: 'converge',
      intervalMs: convergeEvery,
      exclusive: true,
      retry: { firstMs: Math.min(CONVERGE_FIRST_RETRY_MS, convergeEvery), maxMs: convergeEvery },
      run: async (signal) => converge(await current('converge', true), signal),
    });
  }
  for (const job of jobs) {
    const intervalMs = job.intervalMs(context);
    if (intervalMs === null) continue;
    tasks.push({
      name: job.name,
      intervalMs,
      exclusive: !READ_ONLY_JOBS.has(job.name),
      retry: (job.retry ?? defaultRetry)(intervalMs),
      run: async (signal) => job.run({ ...(await current(job.name, false)), signal }),
    });
  }
  return tasks;
}

/** The concerns and the AWS SDK load at the first converge: with CONVERGE_INTERVAL=off the daemon never holds them. */
async function converge(context: ConcernContext, signal: AbortSignal): Promise<TaskOutcome> {
  const [{ CONCERNS }, { proveRegistration }] = await Promise.all([import('../concerns/index.ts'), import('../ecs-agent/prove.ts')]);
  const outcomes = await applyAll(CONCERNS, context, signal);
  const failed = outcomes.filter((outcome) => outcome.error);
  if (failed.length > 0) {
    const message = failed.map((outcome) => `${outcome.concern}: ${outcome.error}`).join('; ');
    // Each concern's error was logged as it happened; the task's own log line only names them.
    throw new TaskFailure(message, `${failed.map((outcome) => outcome.concern).join(', ')} failed (logged above)`);
  }
  const applied = outcomes.reduce((sum, outcome) => sum + outcome.applied, 0);
  const registration = await proveRegistration(context.host, context.config, context.os);
  const summary = `${applied === 0 ? 'up to date' : `${applied} steps applied`}; registration: ${describeRegistration(registration)}`;
  return { summary, details: { concerns: outcomes, registration } };
}

import type { ConcernContext } from '../core/concern.ts';
import { applyAll } from '../core/runner.ts';
import { describeRegistration } from '../ecs-agent/describe-registration.ts';
import type { Job } from './job.ts';
import type { Task, TaskOutcome } from './scheduler.ts';

/** Jobs that must never wait behind a long converge; everything else changes the system and takes turns. */
const READ_ONLY_JOBS = new Set(['metrics', 'events', 'spot-interruption']);

/**
 * The daemon's tasks: the periodic full converge (first at start), then every
 * configured job. Each run gets a fresh context, so a SIGHUP reload applies to
 * the next run of every task; the converge also re-reads the OS facts the jobs share.
 */
export function daemonTasks(current: (fresh: boolean) => Promise<ConcernContext>, first: ConcernContext, jobs: readonly Job[]): Task[] {
  const tasks: Task[] = [];
  const convergeEvery = first.config.CONVERGE_INTERVAL;
  if (convergeEvery !== null) {
    tasks.push({ name: 'converge', intervalMs: convergeEvery, exclusive: true, runAtStart: true, run: async () => converge(await current(true)) });
  }
  for (const job of jobs) {
    const intervalMs = job.intervalMs(first);
    if (intervalMs === null) continue;
    tasks.push({
      name: job.name,
      intervalMs,
      exclusive: !READ_ONLY_JOBS.has(job.name),
      runAtStart: true,
      run: async (signal) => job.run({ ...(await current(false)), signal }),
    });
  }
  return tasks;
}

/** The concerns and the AWS SDK load at the first converge: with CONVERGE_INTERVAL=off the daemon never holds them. */
async function converge(context: ConcernContext): Promise<TaskOutcome> {
  const [{ CONCERNS }, { proveRegistration }] = await Promise.all([import('../concerns/index.ts'), import('../ecs-agent/prove.ts')]);
  const outcomes = await applyAll(CONCERNS, context);
  const failed = outcomes.filter((outcome) => outcome.error);
  if (failed.length > 0) throw new Error(failed.map((outcome) => `${outcome.concern}: ${outcome.error}`).join('; '));
  const applied = outcomes.reduce((sum, outcome) => sum + outcome.applied, 0);
  const registration = await proveRegistration(context.host, context.config, context.os);
  const summary = `${applied === 0 ? 'up to date' : `${applied} steps applied`}; registration: ${describeRegistration(registration)}`;
  return { summary, details: { concerns: outcomes, registration } };
}

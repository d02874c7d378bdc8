import type { Job, JobContext, JobResult } from '../daemon/job.ts';
import { applyAll } from '../core/runner.ts';
import { describeRegistration } from '../ecs-agent/describe-registration.ts';
import { TaskFailure } from '../daemon/scheduler.ts';

/**
 * A failed converge (at first boot: the network or a mirror not ready yet) is
 * retried after 30 s, then 1, 2, 4 … minutes up to CONVERGE_INTERVAL, not only
 * an interval later: the host joins the cluster soon after the cause is gone.
 */
export const CONVERGE_FIRST_RETRY_MS = 30_000;

/**
 * The periodic full converge: every concern, then the proof that the instance
 * registered. It reads the OS facts again first, and runs in a process of its
 * own: the concerns and the AWS SDK never stay in the resident daemon.
 */
export const convergeJob: Job = {
  name: 'converge',
  intervalMs: (context) => context.config.CONVERGE_INTERVAL,
  retry: (intervalMs) => ({ firstMs: Math.min(CONVERGE_FIRST_RETRY_MS, intervalMs), maxMs: intervalMs }),
  freshFacts: true,
  ownProcess: true,
  run: converge,
};

async function converge(context: JobContext): Promise<JobResult> {
  const [{ CONCERNS }, { proveRegistration }] = await Promise.all([
    import('../concerns/index.ts'),
    import('../ecs-agent/prove.ts'),
  ]);
  const outcomes = await applyAll(CONCERNS, context, context.signal);
  const failed = outcomes.filter((outcome) => outcome.error);
  if (failed.length > 0) {
    const message = failed.map((outcome) => `${outcome.concern}: ${outcome.error}`).join('; ');
    // Each concern's error was logged as it happened; the task's own log line only names them.
    throw new TaskFailure(message, `${failed.map((outcome) => outcome.concern).join(', ')} failed (logged above)`);
  }
  const applied = outcomes.reduce((sum, outcome) => sum + outcome.applied, 0);
  const registration = await proveRegistration(context.host, context.config, context.os);
  const done = applied === 0 ? 'up to date' : `${applied} steps applied`;
  const summary = `${done}; registration: ${describeRegistration(registration)}`;
  return { summary, details: { concerns: outcomes, registration } };
}

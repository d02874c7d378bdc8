import type { SourceOptions } from '../concerns/users/source.ts';
import { AgentError } from '../core/errors.ts';
import type { Job } from '../daemon/job.ts';

/**
 * The daemon's users sync every USERS_SYNC_INTERVAL; cheap when nothing changed (no tool runs, no file is
 * written). It runs in a process of its own (the source may load the AWS SDK), so this file loads nothing else
 * until a run: the daemon reads only its name and interval.
 */
export function createUsersSyncJob(options: SourceOptions = {}): Job {
  return {
    name: 'users-sync',
    intervalMs: (context) => (context.config.USERS_SOURCE === null ? null : context.config.USERS_SYNC_INTERVAL),
    ownProcess: true,
    async run(context) {
      const [{ describeProblem }, { summarizeSync, syncUsers }] = await Promise.all([
        import('../concerns/users/problems.ts'),
        import('../concerns/users/sync.ts'),
      ]);
      const report = await syncUsers(context, { ...options, dryRun: false });
      for (const problem of report.problems) context.logger.warn(`users: ${describeProblem(problem)}`);
      const failed = report.steps.filter((step) => step.error !== undefined);
      if (failed.length > 0)
        throw new AgentError(
          `${summarizeSync(report)}: ${failed.map((step) => `${step.summary}: ${step.error}`).join('; ')}`,
        );
      return { summary: summarizeSync(report), details: report };
    },
  };
}

export const usersSyncJob = createUsersSyncJob();

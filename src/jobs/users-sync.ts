import { describeProblem } from '../concerns/users/problems.ts';
import type { SourceOptions } from '../concerns/users/source.ts';
import { summarizeSync, syncUsers } from '../concerns/users/sync.ts';
import { AgentError } from '../core/errors.ts';
import type { Job } from '../daemon/job.ts';

/** The daemon's users sync every USERS_SYNC_INTERVAL; cheap when nothing changed (no tool runs, no file is written). */
export function createUsersSyncJob(options: SourceOptions = {}): Job {
  return {
    name: 'users-sync',
    intervalMs: (context) => (context.config.USERS_SOURCE === null ? null : context.config.USERS_SYNC_INTERVAL),
    async run(context) {
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

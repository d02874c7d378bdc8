import { describeProblem } from '../concerns/users/problems.ts';
import { summarizeSync, syncFailed, syncUsers, type UsersSyncReport } from '../concerns/users/sync.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import { inspectManageable } from './inspect.ts';

const SUBCOMMANDS = ['sync'];

export const users: CommandImplementation = {
  async run(context, flags, operands) {
    const [subcommand, ...extra] = operands;
    if (subcommand === undefined || !SUBCOMMANDS.includes(subcommand)) {
      throw new UsageError(`users: expected ${SUBCOMMANDS.join(' or ')}, got ${JSON.stringify(subcommand ?? '')}`);
    }
    if (extra.length > 0) throw new UsageError(`users ${subcommand}: unexpected ${JSON.stringify(extra[0])}`);
    if (context.config.USERS_SOURCE === null) {
      throw new UsageError(
        `users ${subcommand}: USERS_SOURCE is not set (${context.config.origins.USERS_SOURCE}); no users are managed`,
      );
    }
    // Only the OS facts, not every concern: a no-op sync of a thousand users is meant to take well under a second.
    const os = await inspectManageable(context);
    const concerns = { host: context.host, config: context.config, os, logger: context.logger, resetAgentState: false };
    const report = await syncUsers(concerns, { dryRun: flags['dry-run'] === true });
    context.out(context.json ? JSON.stringify(report, null, 2) : renderSync(report));
    return syncFailed(report) ? ExitCode.failed : ExitCode.ok;
  },
};

function renderSync(report: UsersSyncReport): string {
  const steps = report.steps.map((step) => {
    const status = step.error !== undefined ? 'FAILED ' : step.done ? 'done   ' : report.dryRun ? 'planned' : 'skipped';
    const lines = [`  ${status} ${step.summary}${step.error !== undefined ? `: ${step.error}` : ''}`];
    if (report.dryRun) lines.push(...step.details.map((line) => `            ${line}`));
    return lines.join('\n');
  });
  return [
    summarizeSync(report),
    ...(report.sourceNote === null ? [] : [`  (${report.sourceNote})`]),
    ...(steps.length > 0 ? steps : ['  up to date']),
    ...(report.problems.length > 0
      ? [
          'rejected or skipped (the other users were synced):',
          ...report.problems.map((problem) => `  ${describeProblem(problem)}`),
        ]
      : []),
  ].join('\n');
}

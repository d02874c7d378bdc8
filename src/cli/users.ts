import { summarizeSync, syncFailed, syncUsers, type UsersSyncReport } from '../concerns/users/sync.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import { concernContext } from './converge.ts';

const SUBCOMMANDS = ['sync'];

export const users: CommandImplementation = {
  async run(context, flags, operands) {
    const [subcommand, ...extra] = operands;
    if (subcommand === undefined || !SUBCOMMANDS.includes(subcommand)) {
      throw new UsageError(`users: expected ${SUBCOMMANDS.join(' or ')}, got ${JSON.stringify(subcommand ?? '')}`);
    }
    if (extra.length > 0) throw new UsageError(`users ${subcommand}: unexpected ${JSON.stringify(extra[0])}`);
    if (context.config.USERS_SOURCE === null) throw new UsageError(`users ${subcommand}: USERS_SOURCE is not set (${context.config.origins.USERS_SOURCE}); no users are managed`);
    const concerns = await concernContext(context, flags);
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
  const problems = report.problems.map((problem) => `  ${JSON.stringify(problem.user)}: ${problem.error}`);
  return [
    summarizeSync(report),
    ...(steps.length > 0 ? steps : ['  up to date']),
    ...(problems.length > 0 ? ['rejected or skipped (the other users were synced):', ...problems] : []),
  ].join('\n');
}

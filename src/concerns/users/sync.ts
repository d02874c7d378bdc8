import type { ConcernContext } from '../../core/concern.ts';
import { messageOf } from '../../core/errors.ts';
import type { Rejection } from './document.ts';
import { applyUsers } from './apply.ts';
import { gatherUsers } from './facts.ts';
import { sourceOf } from './index.ts';
import { planUsers, type UsersAction } from './plan.ts';
import { usersProblems } from './problems.ts';
import type { SourceOptions } from './source.ts';

/**
 * One sync, as `users sync` and the daemon run it: unlike the converge runner,
 * a step that fails for one user does not stop the others. A step for no
 * user in particular (a group, the sudoers file, the state file) does: the
 * user steps after it depend on it.
 */
export interface UsersSyncStep {
  readonly kind: UsersAction['kind'];
  readonly user: string | null;
  readonly summary: string;
  readonly details: readonly string[];
  /** false under --dry-run, and for steps not reached. */
  readonly done: boolean;
  readonly error?: string;
}

export interface UsersSyncReport {
  readonly source: string;
  readonly dryRun: boolean;
  readonly listed: number;
  readonly steps: readonly UsersSyncStep[];
  /** Entries rejected, accounts not the agent's, homes not written into: one line each, the rest synced. */
  readonly problems: readonly Rejection[];
}

export interface UsersSyncOptions extends SourceOptions {
  readonly dryRun: boolean;
}

export async function syncUsers(context: ConcernContext, options: UsersSyncOptions): Promise<UsersSyncReport> {
  const facts = await gatherUsers(context, sourceOf(context), options);
  const actions = planUsers(facts, { shell: context.config.USERS_SHELL, remove: context.config.USERS_REMOVE });
  const steps: UsersSyncStep[] = [];
  let stopped = false;
  for (const action of actions) {
    const step = { kind: action.kind, user: action.user ?? null, summary: action.summary, details: action.details ?? [] };
    if (options.dryRun || stopped) {
      steps.push({ ...step, done: false });
      continue;
    }
    try {
      context.logger.info(`users: ${action.summary}`);
      await applyUsers(action, context);
      steps.push({ ...step, done: true });
    } catch (error) {
      context.logger.error(`users: ${action.summary}: ${messageOf(error)}`);
      steps.push({ ...step, done: false, error: messageOf(error) });
      stopped = action.user === undefined;
    }
  }
  return { source: facts.source, dryRun: options.dryRun, listed: facts.listed.length, steps, problems: usersProblems(facts) };
}

export function syncFailed(report: UsersSyncReport): boolean {
  return report.problems.length > 0 || report.steps.some((step) => step.error !== undefined);
}

export function summarizeSync(report: UsersSyncReport): string {
  const failed = report.steps.filter((step) => step.error !== undefined).length;
  const counts = [
    `${report.listed} listed`,
    `${report.steps.length} step${report.steps.length === 1 ? '' : 's'} ${report.dryRun ? 'planned' : 'applied'}`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(report.problems.length > 0 ? [`${report.problems.length} rejected or skipped`] : []),
  ];
  return `users from ${report.source}: ${counts.join(', ')}`;
}

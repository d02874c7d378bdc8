import type { ConcernContext } from '../../core/concern.ts';
import { messageOf } from '../../core/errors.ts';
import { renderSteps } from '../../core/step.ts';
import { applyUsers } from './apply.ts';
import { gatherUsers } from './facts.ts';
import { planSettings, sourceOf } from './index.ts';
import { planUsers, type UsersAction } from './plan.ts';
import { type UsersProblem, usersProblems } from './problems.ts';
import type { SourceOptions } from './source.ts';

/**
 * One sync, as `users sync` and the daemon run it: unlike the converge runner, a step that fails does not stop
 * the steps that do not depend on it. A failed step for one user skips that user's later steps; a failed step
 * everything after it depends on (the agent's groups, the state file before a creation, the creation itself)
 * stops the sync there.
 */
export interface UsersSyncStep {
  readonly kind: UsersAction['kind'];
  readonly user: string | null;
  readonly summary: string;
  /** The action's steps as plan prints them. */
  readonly details: readonly string[];
  /** false under --dry-run, and for steps not reached. */
  readonly done: boolean;
  readonly error?: string;
}

export interface UsersSyncReport {
  readonly source: string;
  /** How the source was read (an ssm: generation unchanged …), or null. */
  readonly sourceNote: string | null;
  readonly dryRun: boolean;
  readonly listed: number;
  readonly steps: readonly UsersSyncStep[];
  /** Entries rejected, accounts not the agent's, homes not written into: one line each, the rest synced. */
  readonly problems: readonly UsersProblem[];
}

export interface UsersSyncOptions extends SourceOptions {
  readonly dryRun: boolean;
}

const STOPPING: ReadonlySet<UsersAction['kind']> = new Set([
  'create-group',
  'record-state',
  'create-accounts',
  'flush-homes',
]);
/** Steps for different users that share nothing: run side by side (homes are written with an fsync each). */
const CONCURRENT: ReadonlySet<UsersAction['kind']> = new Set(['set-up-home', 'write-keys', 'remove-keys']);
const AT_ONCE = 32;

export async function syncUsers(context: ConcernContext, options: UsersSyncOptions): Promise<UsersSyncReport> {
  const facts = await gatherUsers(context, sourceOf(context), options);
  const actions = planUsers(facts, planSettings(context));
  const report = {
    source: facts.source,
    sourceNote: facts.sourceNote,
    dryRun: options.dryRun,
    listed: facts.listed.length,
    problems: usersProblems(facts),
  };
  if (options.dryRun) return { ...report, steps: actions.map((action) => step(action, { done: false })) };
  return { ...report, steps: await applySteps(context, actions) };
}

async function applySteps(context: ConcernContext, actions: readonly UsersAction[]): Promise<UsersSyncStep[]> {
  const steps: UsersSyncStep[] = [];
  const failed = new Set<string>();
  let stopped = false;
  for (let index = 0; index < actions.length;) {
    const first = actions[index] as UsersAction;
    let end = index + 1;
    while (
      CONCURRENT.has(first.kind) &&
      end < actions.length &&
      end - index < AT_ONCE &&
      actions[end]?.kind === first.kind
    )
      end++;
    const batch = actions.slice(index, end);
    steps.push(
      ...(await Promise.all(
        batch.map(async (action) => {
          if (stopped || (action.user !== undefined && failed.has(action.user))) return step(action, { done: false });
          const error = await applyOne(context, action, failed);
          if (error === null) return step(action, { done: true });
          for (const user of [...(action.user === undefined ? [] : [action.user]), ...(action.affects ?? [])])
            failed.add(user);
          return step(action, { done: false, error });
        }),
      )),
    );
    if (
      batch.some(
        (action, offset) =>
          STOPPING.has(action.kind) && steps[steps.length - batch.length + offset]?.error !== undefined,
      )
    ) {
      stopped = true;
    }
    index = end;
  }
  return steps;
}

async function applyOne(
  context: ConcernContext,
  action: UsersAction,
  failed: ReadonlySet<string>,
): Promise<string | null> {
  try {
    context.logger.info(`users: ${action.summary}`);
    await applyUsers(action, context, failed);
    return null;
  } catch (error) {
    context.logger.error(`users: ${action.summary}: ${messageOf(error)}`);
    return messageOf(error);
  }
}

function step(action: UsersAction, outcome: { done: boolean; error?: string }): UsersSyncStep {
  return {
    kind: action.kind,
    user: action.user ?? null,
    summary: action.summary,
    details: renderSteps(action.steps),
    ...outcome,
  };
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

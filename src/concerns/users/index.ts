import type { Concern, ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { applyUsers } from './apply.ts';
import { gatherUsers, type UsersFacts } from './facts.ts';
import { planUsers, type UsersAction, type UsersPlanSettings } from './plan.ts';
import { describeProblem, usersProblems } from './problems.ts';
import type { SourceOptions } from './source.ts';

/**
 * SSH users: accounts, keys, groups and sudo from USERS_SOURCE, touching only the accounts the agent created
 * (DESIGN.md §3 "SSH users"). Disabled when USERS_SOURCE is empty.
 */
export function createUsersConcern(options: SourceOptions = {}): Concern<UsersFacts, UsersAction> {
  return {
    name: 'users',
    enabled: (context) => context.config.USERS_SOURCE !== null,
    gather: (context) => gatherUsers(context, sourceOf(context), options),
    plan: (facts, context) => planUsers(facts, planSettings(context)),
    warnings: (facts) => usersProblems(facts).map(describeProblem),
    apply: (action, context) => applyUsers(action, context),
  };
}

/** Without a control client: the lead wires one in with createUsersConcern({ fetchUsersDocument }). */
export const usersConcern = createUsersConcern();

export function sourceOf(context: ConcernContext): UsersSource {
  const source = context.config.USERS_SOURCE;
  if (source === null) throw new Error('users: USERS_SOURCE is empty, the concern is disabled');
  return source;
}

export function planSettings(context: ConcernContext): UsersPlanSettings {
  const { config } = context;
  return { shell: config.USERS_SHELL, remove: config.USERS_REMOVE, maxRemovals: config.USERS_MAX_REMOVALS };
}

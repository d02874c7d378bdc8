import type { Concern, ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { applyUsers } from './apply.ts';
import { gatherUsers, type UsersFacts } from './facts.ts';
import { planUsers, type UsersAction } from './plan.ts';
import { usersProblems } from './problems.ts';
import type { SourceOptions } from './source.ts';

/**
 * SSH users (issue 6): accounts, keys, groups and sudo from USERS_SOURCE,
 * touching only the accounts the agent created (DESIGN.md §3 "SSH users").
 * Disabled when USERS_SOURCE is empty.
 */
export function createUsersConcern(options: SourceOptions = {}): Concern<UsersFacts, UsersAction> {
  return {
    name: 'users',
    enabled: (context) => context.config.USERS_SOURCE !== null,
    gather: (context) => gatherUsers(context, sourceOf(context), options),
    plan: (facts, context) => planUsers(facts, { shell: context.config.USERS_SHELL, remove: context.config.USERS_REMOVE }),
    warnings: (facts) => usersProblems(facts).map((problem) => `${JSON.stringify(problem.user)}: ${problem.error}`),
    apply: applyUsers,
  };
}

/** Without a control client: the lead wires one in with createUsersConcern({ fetchUsersDocument }). */
export const usersConcern = createUsersConcern();

export function sourceOf(context: ConcernContext): UsersSource {
  const source = context.config.USERS_SOURCE;
  if (source === null) throw new Error('users: USERS_SOURCE is empty, the concern is disabled');
  return source;
}

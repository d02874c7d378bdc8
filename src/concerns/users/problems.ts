import type { Rejection } from './document.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';

/** Everything the sync leaves undone on purpose, reported on every sync until it is fixed. */
export interface UsersProblem {
  /** The user concerned, or null for the host as a whole (sshd's configuration). */
  readonly user: string | null;
  readonly error: string;
}

export function usersProblems(facts: UsersFacts): UsersProblem[] {
  const listed = new Set(facts.listed);
  const homes = [...facts.managed.values()].flatMap((user) => homeProblem(user, listed.has(user.account.name)));
  const sshd = facts.sshd.problems.map((error) => ({ user: null, error }));
  return [...sshd, ...facts.rejections.map(asProblem), ...homes];
}

function asProblem(rejection: Rejection): UsersProblem {
  return { user: rejection.user, error: rejection.error };
}

function homeProblem(user: ManagedUser, listed: boolean): UsersProblem[] {
  const { keys } = user.home;
  if (keys.kind !== 'refused' || (keys.missing && user.creating)) return [];
  const name = user.account.name;
  if (listed) return [{ user: name, error: `${keys.reason}; its keys were left as they are` }];
  // Gone from the source: a planted authorized_keys link is removed with the lock, anything else stays, harmless.
  if (keys.linkedFile) return [];
  return [
    { user: name, error: `${keys.reason}; the account is locked and expired, so whatever is there does not log in` },
  ];
}

/** One line for logs, warnings and the CLI. */
export function describeProblem(problem: UsersProblem): string {
  return problem.user === null ? problem.error : `${JSON.stringify(problem.user)}: ${problem.error}`;
}

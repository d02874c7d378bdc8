import type { Rejection } from './document.ts';
import type { UsersFacts } from './facts.ts';

/** Everything the sync leaves undone on purpose: rejected entries, conflicts, homes it will not write into. */
export function usersProblems(facts: UsersFacts): Rejection[] {
  const homes = [...facts.managed.values()].flatMap(({ account, keys }) =>
    keys.kind === 'refused' ? [{ user: account.name, error: `${keys.reason}; its keys were left as they are` }] : [],
  );
  return [...facts.rejections, ...homes];
}

import { AgentError } from '../../core/errors.ts';
import { describeLimit, type RemovalLimit, removalsAllowed } from '../../core/config/users.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';
import { USERS } from './settings.ts';

/**
 * A source that empties or shrinks sharply is far more often a mistake (an SSM prefix typo, a file written
 * half way, `{}` from a broken pipeline) than a decision to lock out a whole team: such a sync is refused as a
 * whole, nothing changed, until USERS_MAX_REMOVALS says the removals are meant.
 */
export class UsersRemovalError extends AgentError {}

/** Locked by the agent: password locked and account expired (usermod -L -e 1). */
export function isLocked(user: ManagedUser): boolean {
  return user.password.startsWith('!') && user.expire === USERS.lockedExpireDay;
}

export function checkRemovals(facts: UsersFacts, gone: readonly ManagedUser[], limit: RemovalLimit): void {
  const everyone = limit.kind === 'percent' && limit.percent === 100;
  if (facts.listed.length === 0 && !everyone) {
    throw new UsersRemovalError(
      `${facts.source} lists no users: an empty source is refused (a wrong prefix or path, or a document emptied by ` +
        'mistake, would remove every managed user); nothing was changed. ' +
        'To remove everybody, set USERS_MAX_REMOVALS=100%',
    );
  }
  const active = [...facts.managed.values()].filter((user) => !isLocked(user));
  const removing = gone.filter((user) => !isLocked(user)).map((user) => user.account.name);
  const allowed = removalsAllowed(limit, active.length);
  if (removing.length <= allowed) return;
  const names =
    removing.length > 10 ? `${removing.slice(0, 10).join(', ')} and ${removing.length - 10} more` : removing.join(', ');
  throw new UsersRemovalError(
    `${facts.source} would remove ${removing.length} of the ${active.length} managed users in one sync (${names}); ` +
      `USERS_MAX_REMOVALS=${describeLimit(limit)} allows ${allowed}. Nothing was changed. ` +
      'If the source is right, raise ' +
      `USERS_MAX_REMOVALS (e.g. USERS_MAX_REMOVALS=${removing.length}) for this sync`,
  );
}

import { InvalidValue, type Parse } from './values.ts';

/**
 * Parsers of the users concern's configuration keys (USERS_ALLOWED_GROUPS, USERS_SHELL, USERS_MAX_REMOVALS), with
 * the names they judge: the configuration is read before any concern, so what it checks lives here.
 */

/** User and group names the agent accepts: what useradd and newusers accept on every supported distribution. */
export const NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;

/** Every managed account is a member; only root can add members, so a user cannot fake or shed it. */
export const MARKER_GROUP = 'ecs-host-agent-users';
/** The group the sudoers rule names. */
export const SUDO_GROUP = 'ecs-host-agent-sudo';

/** Groups that grant root through sudoers or own the agent's marks: never on the allow-list. */
const NEVER_ALLOWED = new Map<string, string>([
  ['root', 'is gid 0'],
  ['sudo', 'grants root through sudoers; grant sudo with "sudo": true'],
  ['wheel', 'grants root through sudoers; grant sudo with "sudo": true'],
  ['admin', 'grants root through sudoers; grant sudo with "sudo": true'],
  [SUDO_GROUP, 'is the agent\'s own sudo group; grant sudo with "sudo": true'],
  [MARKER_GROUP, "is the agent's own marker group; every managed user is in it"],
]);

const ALLOWED_GROUPS_FORM = 'group names separated by commas (e.g. users,video), or empty for none';

export const allowedGroups: Parse<readonly string[]> = (raw) => {
  if (raw === '') return [];
  const names = raw.split(',');
  for (const name of names) {
    if (!NAME_PATTERN.test(name))
      throw new InvalidValue(`lists ${JSON.stringify(name)}, which is not a group name`, ALLOWED_GROUPS_FORM);
    const never = NEVER_ALLOWED.get(name);
    if (never !== undefined)
      throw new InvalidValue(
        `lists ${name}, which ${never}`,
        `${ALLOWED_GROUPS_FORM}; not ${[...NEVER_ALLOWED.keys()].join(', ')}`,
      );
  }
  return [...new Set(names)].sort();
};

/** A login shell for newusers' and usermod's input: an absolute path with no ":" (the field separator) or spaces. */
export const loginShell: Parse<string> = (raw) => {
  if (/^\/[^:\s,]+$/.test(raw) && !raw.split('/').includes('..')) return raw;
  throw new InvalidValue(
    'is not a login shell path',
    'an absolute path without ":", ",", spaces or ".." components, e.g. /bin/bash',
  );
};

/** How many managed users one sync may remove: a count, or a share of the users it manages. */
export type RemovalLimit =
  { readonly kind: 'count'; readonly count: number } | { readonly kind: 'percent'; readonly percent: number };

export const removalLimit: Parse<RemovalLimit> = (raw) => {
  const match = /^(\d{1,6})(%?)$/.exec(raw);
  const value = Number(match?.[1]);
  if (match && match[2] === '%' && value <= 100) return { kind: 'percent', percent: value };
  if (match && match[2] === '') return { kind: 'count', count: value };
  throw new InvalidValue(
    'is not a count or a percentage',
    'a number of users (e.g. 20) or a percentage of the managed users (e.g. 10%)',
  );
};

/**
 * The number of removals a limit allows when `managed` users are managed. A percentage allows at least one, so a
 * small team can always remove one person; 0 (or 0%) allows none.
 */
export function removalsAllowed(limit: RemovalLimit, managed: number): number {
  if (limit.kind === 'count') return limit.count;
  return limit.percent === 0 ? 0 : Math.max(1, Math.floor((managed * limit.percent) / 100));
}

export function describeLimit(limit: RemovalLimit): string {
  return limit.kind === 'count' ? String(limit.count) : `${limit.percent}%`;
}

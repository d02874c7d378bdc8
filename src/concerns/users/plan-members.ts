import type { DesiredUser } from './document.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';
import type { UsersAction } from './plan.ts';
import { USERS } from './settings.ts';

/**
 * Supplementary groups, one `gpasswd -M` per group whose members change: one call sets the whole list, so
 * 1,000 new users cost one call per group rather than one per user. Members that are not managed accounts are
 * kept as they are, in their order. Groups a managed user is in but no longer asks for (sudo after expiry, every
 * group but the marker after removal) lose that user, and so does any group off USERS_ALLOWED_GROUPS, even for
 * a user whose entry is rejected (a grant made before the allow-list existed does not outlive it).
 *
 * Run twice in a sync that creates accounts: before the creation for the existing users (a revoked group must
 * not wait for a creation), and after it with the new accounts, which gpasswd refuses to list before they exist.
 */
export interface MemberActions {
  readonly beforeCreation: readonly UsersAction[];
  readonly afterCreation: readonly UsersAction[];
}

export function planMembers(
  facts: UsersFacts,
  desired: readonly DesiredUser[],
  gone: readonly ManagedUser[],
  created: ReadonlySet<string>,
): MemberActions {
  const wants = new Map<string, readonly string[]>();
  for (const user of desired) wants.set(user.name, groupsOf(user));
  for (const user of gone) wants.set(user.account.name, [USERS.markerGroup]);
  const managed = new Set([...facts.managed.keys(), ...created]);
  const groups = new Set([
    ...[...facts.managed.values()].flatMap((user) => user.groups),
    ...[...wants.values()].flat(),
  ]);
  const beforeCreation: UsersAction[] = [];
  const afterCreation: UsersAction[] = [];
  for (const group of [...groups].sort()) {
    const current = facts.accounts.groups.get(group)?.members ?? [];
    const kept = current.filter((member) => !managed.has(member) && keepsOutsider(group, member, facts));
    // A rejected entry changes nothing, except that no managed account stays in a group off the allow-list.
    const untouched = current.filter(
      (member) => facts.managed.has(member) && !wants.has(member) && mayStayIn(group, facts),
    );
    const wanting = (names: Iterable<string>) => [...names].filter((name) => wants.get(name)?.includes(group)).sort();
    const existing = ordered(current, [...kept, ...untouched, ...wanting(facts.managed.keys())]);
    const final = ordered(current, [...existing, ...wanting(created)]);
    const gshadow = facts.accounts.gshadow?.get(group);
    const stale = !sameSet(existing, current) || (gshadow !== undefined && !sameSet(existing, gshadow));
    if (stale) beforeCreation.push(setMembers(group, current, existing));
    if (!sameSet(final, existing)) afterCreation.push(setMembers(group, stale ? existing : current, final));
  }
  return { beforeCreation, afterCreation };
}

function mayStayIn(group: string, facts: UsersFacts): boolean {
  return group === USERS.markerGroup || group === USERS.sudoGroup || facts.allowedGroups.has(group);
}

function groupsOf(user: DesiredUser): string[] {
  return [USERS.markerGroup, ...(user.sudo ? [USERS.sudoGroup] : []), ...user.groups];
}

/** In the agent's own groups only its accounts belong: a name there with no account is dropped (gpasswd refuses it). */
function keepsOutsider(group: string, member: string, facts: UsersFacts): boolean {
  return (group !== USERS.markerGroup && group !== USERS.sudoGroup) || facts.accounts.users.has(member);
}

/** `wanted` in the order `current` has them, then the others in theirs. */
function ordered(current: readonly string[], wanted: readonly string[]): string[] {
  const set = new Set(wanted);
  const first = current.filter((member) => set.has(member));
  return [...new Set([...first, ...wanted])];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((item) => set.has(item));
}

function setMembers(group: string, from: readonly string[], to: readonly string[]): UsersAction {
  const [before, after] = [new Set(from), new Set(to)];
  const added = to.filter((member) => !before.has(member));
  const removed = from.filter((member) => !after.has(member));
  const change = [
    ...(added.length > 0 ? [`add ${short(added)}`] : []),
    ...(removed.length > 0 ? [`remove ${short(removed)}`] : []),
  ];
  return {
    kind: 'set-members',
    group,
    affects: added,
    summary: `set the members of ${group}: ${change.join('; ') || 'rewrite /etc/gshadow to match /etc/group'}`,
    steps: [{ run: { file: 'gpasswd', args: ['-M', to.join(','), '--', group] } }],
  };
}

function short(names: readonly string[]): string {
  return names.length > 10 ? `${names.slice(0, 10).join(', ')} and ${names.length - 10} more` : names.join(', ');
}

import type { Action } from '../../core/concern.ts';
import type { DesiredUser } from './document.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';
import { KEYS_FILE_HEADER, SUDOERS_TEXT, USERS } from './settings.ts';
import { stateText } from './state.ts';

/**
 * Pure: the steps from the facts to the source's users. Every account tool
 * call is carried in the action exactly as apply runs it, so `--dry-run`
 * shows the real commands. Nothing is planned for what already matches.
 */
export type UsersAction = Action & { readonly user?: string } & (
    | { readonly kind: 'create-group'; readonly group: string }
    | { readonly kind: 'write-sudoers'; readonly text: string }
    | { readonly kind: 'record-state'; readonly users: readonly string[] }
    | { readonly kind: 'create-user'; readonly user: string; readonly useradd: readonly string[]; readonly keys: string | null }
    | { readonly kind: 'modify-user'; readonly user: string; readonly usermod: readonly string[] }
    | { readonly kind: 'write-keys'; readonly user: string; readonly home: string; readonly uid: number; readonly gid: number; readonly text: string }
    | { readonly kind: 'remove-keys'; readonly user: string; readonly home: string }
    | { readonly kind: 'lock-user'; readonly user: string; readonly home: string; readonly removeKeys: boolean; readonly usermod: readonly string[] | null }
    | { readonly kind: 'delete-user'; readonly user: string; readonly userdel: readonly string[] }
  );

export interface UsersPlanSettings {
  readonly shell: string;
  readonly remove: 'lock' | 'delete';
}

export function planUsers(facts: UsersFacts, settings: UsersPlanSettings): UsersAction[] {
  const desired = [...facts.desired].sort((a, b) => a.name.localeCompare(b.name));
  const toCreate = desired.filter((user) => !facts.managed.has(user.name));
  const listed = new Set(facts.listed);
  const gone = [...facts.managed.values()].filter((user) => !listed.has(user.account.name)).sort((a, b) => a.account.name.localeCompare(b.account.name));
  return [
    // An all-rejected source changes nothing, not even groups.
    ...(desired.length > 0 ? facts.missingGroups.map(createGroup) : []),
    ...sudoers(facts, desired),
    ...recordState(facts, toCreate),
    ...desired.flatMap((user) => {
      const managed = facts.managed.get(user.name);
      return managed ? update(user, managed, settings) : [createUser(user, settings)];
    }),
    ...gone.flatMap((user) => (settings.remove === 'delete' ? [deleteUser(user)] : lockUser(user))),
  ];
}

/** The authorized_keys text for these keys, or null for none (no file). */
export function keysText(keys: readonly string[]): string | null {
  return keys.length === 0 ? null : `${KEYS_FILE_HEADER}${keys.map((key) => `${key}\n`).join('')}`;
}

function createGroup(group: string): UsersAction {
  return { kind: 'create-group', group, summary: `create the group ${group}`, details: [`groupadd --system -- ${group}`] };
}

function sudoers(facts: UsersFacts, desired: readonly DesiredUser[]): UsersAction[] {
  const wanted = facts.sudoers !== null || desired.some((user) => user.sudo);
  if (!wanted || facts.sudoers === SUDOERS_TEXT) return [];
  return [
    {
      kind: 'write-sudoers',
      text: SUDOERS_TEXT,
      summary: `write ${USERS.sudoersFile} (checked with visudo -cf, then renamed into place)`,
      details: SUDOERS_TEXT.trimEnd().split('\n'),
    },
  ];
}

/** Names are recorded before their accounts exist, so an interrupted sync never leaves an account the agent would not know as its own. */
function recordState(facts: UsersFacts, toCreate: readonly DesiredUser[]): UsersAction[] {
  const users = [...new Set([...facts.stateKept, ...toCreate.map((user) => user.name)])].sort();
  if (stateText(users) === stateText(facts.state)) return [];
  const added = toCreate.map((user) => user.name).filter((name) => !facts.state.includes(name));
  return [
    {
      kind: 'record-state',
      users,
      summary: `record ${count(users.length, 'managed user')} in ${USERS.stateFile}`,
      details: added.length > 0 ? [`adding ${added.join(', ')}`] : ['dropping entries whose account no longer exists'],
    },
  ];
}

function activeGroups(user: DesiredUser): string[] {
  return [...new Set([USERS.markerGroup, ...(user.sudo ? [USERS.sudoGroup] : []), ...user.groups])].sort();
}

function createUser(user: DesiredUser, settings: UsersPlanSettings): UsersAction {
  const home = `${USERS.homeBase}/${user.name}`;
  const useradd = [
    '--create-home', '--home-dir', home, '--shell', settings.shell, '--user-group',
    '--groups', activeGroups(user).join(','), '--comment', USERS.comment, '--password', '*', '--', user.name,
  ];
  const keys = keysText(user.keys);
  return {
    kind: 'create-user',
    user: user.name,
    useradd,
    keys,
    summary: `create user ${user.name} (${describeUser(user)})`,
    details: [shown('useradd', useradd), keys === null ? 'no authorized_keys (no keys)' : `write ${home}/${USERS.keysPath} (${count(user.keys.length, 'key')}, mode 0600, .ssh 0700)`],
  };
}

function update(user: DesiredUser, managed: ManagedUser, settings: UsersPlanSettings): UsersAction[] {
  const { account } = managed;
  const groups = activeGroups(user);
  const usermod = [
    ...(sameList(managed.groups, groups) ? [] : ['-G', groups.join(',')]),
    ...(account.shell === settings.shell ? [] : ['-s', settings.shell]),
    ...(managed.locked ? ['-U'] : []),
    ...(managed.expire === '' ? [] : ['-e', '']),
  ];
  const actions: UsersAction[] = [];
  if (usermod.length > 0) {
    actions.push({
      kind: 'modify-user',
      user: user.name,
      usermod: [...usermod, '--', user.name],
      summary: `update user ${user.name}: ${changes(managed, groups, settings).join('; ')}`,
      details: [shown('usermod', [...usermod, '--', user.name])],
    });
  }
  const keys = planKeys(user, managed);
  return keys ? [...actions, keys] : actions;
}

function changes(managed: ManagedUser, groups: readonly string[], settings: UsersPlanSettings): string[] {
  return [
    ...(sameList(managed.groups, groups) ? [] : [`groups ${managed.groups.join(',') || '(none)'} -> ${groups.join(',')}`]),
    ...(managed.account.shell === settings.shell ? [] : [`shell ${managed.account.shell} -> ${settings.shell}`]),
    ...(managed.locked || managed.expire !== '' ? ['unlock (back in the source)'] : []),
  ];
}

function planKeys(user: DesiredUser, managed: ManagedUser): UsersAction | null {
  const { account, keys } = managed;
  if (keys.kind === 'refused') return null;
  const text = keysText(user.keys);
  const why = user.expired ? ` (expired at ${user.expires})` : '';
  if (text === null) {
    if (keys.text === null) return null;
    return { kind: 'remove-keys', user: user.name, home: account.home, summary: `remove ${user.name}'s authorized_keys${why || ' (no keys listed)'}` };
  }
  if (keys.text === text && keys.settled) return null;
  return {
    kind: 'write-keys',
    user: user.name,
    home: account.home,
    uid: account.uid,
    gid: account.gid,
    text,
    summary: `write ${user.name}'s authorized_keys (${count(user.keys.length, 'key')}${keys.text === text ? ': owner or mode only' : ''})`,
    details: [`${account.home}/${USERS.keysPath}, owner ${account.uid}:${account.gid}, mode 0600, .ssh 0700`],
  };
}

function lockUser(user: ManagedUser): UsersAction[] {
  const { account } = user;
  const { keys } = user;
  // A link planted as authorized_keys is removed too (never its target): it could hold keys of the user's choosing.
  const removeKeys = keys.kind === 'readable' ? keys.text !== null : keys.linkedFile;
  const locked = user.locked && user.expire === USERS.lockedExpireDay && sameList(user.groups, [USERS.markerGroup]);
  if (locked && !removeKeys) return [];
  const usermod = locked ? null : ['-L', '-e', USERS.lockedExpireDay, '-G', USERS.markerGroup, '--', account.name];
  return [
    {
      kind: 'lock-user',
      user: account.name,
      home: account.home,
      removeKeys,
      usermod,
      summary: `lock user ${account.name} (gone from the source)`,
      details: [...(usermod ? [shown('usermod', usermod)] : []), ...(removeKeys ? [`remove ${account.home}/${USERS.keysPath}`] : [])],
    },
  ];
}

function deleteUser(user: ManagedUser): UsersAction {
  const userdel = ['--remove', '--', user.account.name];
  return {
    kind: 'delete-user',
    user: user.account.name,
    userdel,
    summary: `delete user ${user.account.name} and its home (gone from the source; USERS_REMOVE=delete)`,
    details: [shown('userdel', userdel)],
  };
}

function describeUser(user: DesiredUser): string {
  const parts = [count(user.keys.length, 'key')];
  if (user.sudo) parts.push('sudo');
  if (user.groups.length > 0) parts.push(`groups ${user.groups.join(',')}`);
  if (user.expired) parts.push(`expired at ${user.expires}`);
  return parts.join(', ');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A command as an operator would type it: arguments with spaces or shell characters quoted. */
function shown(tool: string, args: readonly string[]): string {
  return [tool, ...args.map((arg) => (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`))].join(' ');
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

import type { Action } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { type RemovalLimit } from '../../core/config/users.ts';
import type { DesiredUser } from './document.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';
import type { SkelFile } from './homes.ts';
import { planMembers } from './plan-members.ts';
import { checkRemovals, isLocked } from './removals.ts';
import { KEYS_FILE_HEADER, SSHD_DROP_IN_TEXT, SUDOERS_TEXT, USERS } from './settings.ts';
import type { SourceCacheRecord } from './source-cache.ts';
import type { StateChange } from './state.ts';

/**
 * Pure: the steps from the facts to the source's users. Every account tool
 * call is carried in the action exactly as apply runs it, so `--dry-run`
 * shows the real commands. Nothing is planned for what already matches.
 *
 * Order: access ends first (locks, key removals, sessions ended, deletions), so that nothing after them, not
 * even a failing creation, can delay a revocation; then the agent's groups and configuration, updates of the
 * existing users, and last the accounts to create.
 */
export type UsersAction = Action & {
  readonly user?: string;
  /** Users whose later steps depend on this multi-user step: its failure skips them (and keeps them "creating"). */
  readonly affects?: readonly string[];
} & (
    | {
        readonly kind: 'lock-user';
        readonly user: string;
        readonly home: string;
        readonly removeKeys: boolean;
        readonly usermod: readonly string[] | null;
      }
    | { readonly kind: 'end-sessions'; readonly user: string; readonly uid: number }
    | {
        readonly kind: 'delete-user';
        readonly user: string;
        readonly uid: number;
        readonly retire: boolean;
        readonly userdel: readonly string[];
      }
    | { readonly kind: 'create-group'; readonly group: string }
    | { readonly kind: 'write-sshd-config' }
    | { readonly kind: 'write-sudoers'; readonly text: string }
    | { readonly kind: 'modify-user'; readonly user: string; readonly usermod: readonly string[] }
    | { readonly kind: 'set-passwords'; readonly users: readonly string[] }
    | { readonly kind: 'set-members'; readonly group: string; readonly gpasswd: readonly string[] }
    | {
        readonly kind: 'write-keys';
        readonly user: string;
        readonly home: string;
        readonly uid: number;
        readonly gid: number;
        readonly text: string;
      }
    | { readonly kind: 'remove-keys'; readonly user: string; readonly home: string }
    | { readonly kind: 'record-state'; readonly change: StateChange }
    | { readonly kind: 'create-accounts'; readonly accounts: readonly NewAccount[]; readonly newusers: string }
    | {
        readonly kind: 'set-up-home';
        readonly user: string;
        readonly home: string;
        readonly uid: number;
        readonly gid: number;
        readonly homeMode: number;
        /** Made by newusers in this sync (no home was there when the sync began): nothing in it to keep. */
        readonly newHome: boolean;
        readonly skel: readonly SkelFile[];
        readonly keys: string | null;
      }
    | { readonly kind: 'flush-homes' }
    | { readonly kind: 'record-source'; readonly record: SourceCacheRecord }
  );

export interface NewAccount {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

export interface UsersPlanSettings {
  readonly shell: string;
  readonly remove: 'lock' | 'delete';
  readonly maxRemovals: RemovalLimit;
}

/** The password field of every active managed account: none, so only keys log in ("!" refuses keys without PAM). */
export const NO_PASSWORD = '*';

export function planUsers(facts: UsersFacts, settings: UsersPlanSettings): UsersAction[] {
  const users = sortedUsers(facts);
  checkRemovals(facts, users.gone, settings.maxRemovals);
  const created = new Set(users.toCreate.map((user) => user.name));
  const members = planMembers(facts, users.desired, users.gone, created);
  return [
    ...accessEnds(facts, users, settings),
    ...agentSetup(facts, users.desired),
    ...updates(users, settings, members.beforeCreation),
    ...planCreation(facts, settings, users.toCreate, newAccounts(facts, users.toCreate), members.afterCreation),
    ...users.finishing.map(({ user, managed }) => setUpHome(facts, user, managed.account, false)),
    ...recordCreated([...users.finishing.map(({ user }) => user.name), ...created]),
    ...(facts.sourceCache ? [recordSource(facts.sourceCache)] : []),
  ];
}

interface Existing {
  readonly user: DesiredUser;
  readonly managed: ManagedUser;
}

interface SortedUsers {
  readonly desired: readonly DesiredUser[];
  /** Managed users the source no longer lists. */
  readonly gone: readonly ManagedUser[];
  /** Listed and managed: past their expiry, or to update. */
  readonly expired: readonly Existing[];
  readonly current: readonly Existing[];
  /** Listed and managed, but still being created (a sync was interrupted): their homes are set up again. */
  readonly finishing: readonly Existing[];
  readonly toCreate: readonly DesiredUser[];
}

function sortedUsers(facts: UsersFacts): SortedUsers {
  const listed = new Set(facts.listed);
  const gone = [...facts.managed.values()].filter((user) => !listed.has(user.account.name));
  gone.sort((a, b) => a.account.name.localeCompare(b.account.name));
  const desired = [...facts.desired].sort((a, b) => a.name.localeCompare(b.name));
  const existing = desired.flatMap((user) => {
    const managed = facts.managed.get(user.name);
    return managed ? [{ user, managed }] : [];
  });
  return {
    desired,
    gone,
    expired: existing.filter(({ user }) => user.expired),
    current: existing,
    finishing: existing.filter(({ managed }) => managed.creating),
    toCreate: desired.filter((user) => !facts.managed.has(user.name)),
  };
}

/** First in every sync: locks, expired keys, sessions, deletions. Nothing after them can delay them. */
function accessEnds(facts: UsersFacts, users: SortedUsers, settings: UsersPlanSettings): UsersAction[] {
  const ending = [...users.gone, ...users.expired.map(({ managed }) => managed)];
  return [
    ...users.gone.flatMap(lockUser),
    ...users.expired.flatMap(({ user, managed }) => optional(planKeys(user, managed))),
    ...ending.flatMap((user) => endSessions(facts, user)),
    ...(settings.remove === 'delete' ? users.gone.map(deleteUser) : []),
  ];
}

/** The agent's groups, sshd drop-in and sudoers file; an all-rejected source changes nothing, not even these. */
function agentSetup(facts: UsersFacts, desired: readonly DesiredUser[]): UsersAction[] {
  const anyUsers = desired.length > 0 || facts.managed.size > 0;
  if (!anyUsers) return [];
  return [
    ...facts.missingGroups.map(createGroup),
    ...(facts.sshd.dropIn !== SSHD_DROP_IN_TEXT ? [sshdConfig()] : []),
    ...sudoers(facts, desired),
  ];
}

/** Existing users: account fields, passwords, groups, keys. */
function updates(users: SortedUsers, settings: UsersPlanSettings, members: readonly UsersAction[]): UsersAction[] {
  const withPassword = users.current.filter(({ managed }) => managed.password !== NO_PASSWORD);
  const keyed = users.current.filter(({ user, managed }) => !user.expired && !managed.creating);
  return [
    ...users.current.flatMap(({ user, managed }) => optional(modifyUser(user, managed, settings))),
    ...setPasswords(withPassword.map(({ user }) => user.name)),
    ...members,
    ...keyed.flatMap(({ user, managed }) => optional(planKeys(user, managed))),
  ];
}

function optional<T>(value: T | null): T[] {
  return value === null ? [] : [value];
}

/**
 * uids for the accounts to create: above every uid in use or retired, so that no new account inherits the files
 * an old one left outside its home. Each user's group gets the same number when no group has it (as useradd and
 * newusers prefer), so the deleted accounts' group numbers are not handed out again by the agent either.
 */
function newAccounts(facts: UsersFacts, toCreate: readonly DesiredUser[]): NewAccount[] {
  const { uidMin, uidMax, gidMin, gidMax } = facts.accounts.defs;
  const incomplete = new Map(facts.incomplete.map((account) => [account.name, account]));
  const uids = [...facts.accounts.users.values()].map((account) => account.uid);
  let nextUid = highest(uidMin, uidMax, [...uids, ...facts.state.retiredUids]) + 1;
  const gids = new Set([...facts.accounts.groups.values()].map((group) => group.gid));
  let nextGid = highest(gidMin, gidMax, [...gids, ...facts.state.retiredUids]) + 1;
  return toCreate.map((user) => {
    // An account a killed creation left incomplete is made again with the numbers it had: nobody ever used them.
    const kept = incomplete.get(user.name);
    if (kept !== undefined) return { name: user.name, uid: kept.uid, gid: kept.gid };
    const uid = nextUid++;
    const gid = gids.has(uid) || uid > gidMax ? nextGid++ : uid;
    gids.add(gid);
    return { name: user.name, uid, gid };
  });
}

/** The highest of `numbers` in [min, max], or min - 1. */
function highest(min: number, max: number, numbers: readonly number[]): number {
  return numbers.reduce((top, n) => (n >= min && n <= max && n > top ? n : top), min - 1);
}

function planCreation(
  facts: UsersFacts,
  settings: UsersPlanSettings,
  toCreate: readonly DesiredUser[],
  accounts: readonly NewAccount[],
  members: readonly UsersAction[],
): UsersAction[] {
  const vanished = facts.vanished.filter((name) => !toCreate.some((user) => user.name === name));
  const creating = toCreate.map((user) => user.name).filter((name) => !facts.state.creating.includes(name));
  const state: UsersAction[] =
    creating.length > 0 || vanished.length > 0
      ? [
          recordState(
            { creating, forget: vanished },
            creating.length > 0 ? `adding ${creating.join(', ')}` : 'dropping entries whose account no longer exists',
          ),
        ]
      : [];
  if (toCreate.length === 0) return [...state, ...members];
  const overflow = accounts.find((account) => account.uid > facts.accounts.defs.uidMax);
  if (overflow !== undefined) {
    throw new AgentError(
      `no uid is left for ${overflow.name}: every uid up to UID_MAX ${facts.accounts.defs.uidMax} is used or retired`,
    );
  }
  const redo = facts.incomplete.filter((account) => toCreate.some((user) => user.name === account.name));
  const ids = new Map(accounts.map((account) => [account.name, account]));
  return [
    ...state,
    ...redo.map((account) => ({
      kind: 'delete-user' as const,
      user: account.name,
      uid: account.uid,
      retire: false,
      userdel: ['--', account.name],
      summary: `delete ${account.name}'s incomplete account (a creation was interrupted), to make it again`,
      details: [shown('userdel', ['--', account.name])],
    })),
    createAccounts(accounts, settings.shell),
    ...toCreate.flatMap((user) => (user.expireDay === null ? [] : [expireNewUser(user)])),
    ...members,
    ...toCreate.map((user) =>
      setUpHome(facts, user, ids.get(user.name) as NewAccount, !facts.takenHomes.has(user.name)),
    ),
  ];
}

function createAccounts(accounts: readonly NewAccount[], shell: string): UsersAction {
  // Empty password field: newusers' PAM step then fails at once instead of setting a password (Debian builds set
  // every password through PAM, which also costs a hash per user); chpasswd -e then writes "*".
  const lines = accounts.map(
    ({ name, uid, gid }) => `${name}::${uid}:${gid}:${USERS.comment}:${USERS.homeBase}/${name}:${shell}`,
  );
  return {
    kind: 'create-accounts',
    accounts,
    newusers: `${lines.join('\n')}\n`,
    summary: `create ${count(accounts.length, 'account')}: ${accounts.map((account) => account.name).join(', ')}`,
    details: [
      'newusers, reading:',
      ...lines.map((line) => `  ${line}`),
      `chpasswd -e, reading NAME:${NO_PASSWORD} for each`,
    ],
  };
}

function expireNewUser(user: DesiredUser): UsersAction {
  const usermod = ['-e', String(user.expireDay), '--', user.name];
  return {
    kind: 'modify-user',
    user: user.name,
    usermod,
    summary: `set ${user.name}'s account expiry (${user.expires})`,
    details: [shown('usermod', usermod)],
  };
}

function setUpHome(
  facts: UsersFacts,
  user: DesiredUser,
  ids: { uid: number; gid: number },
  newHome: boolean,
): UsersAction {
  const home = `${USERS.homeBase}/${user.name}`;
  const keys = keysText(user.keys);
  return {
    kind: 'set-up-home',
    user: user.name,
    home,
    uid: ids.uid,
    gid: ids.gid,
    homeMode: facts.accounts.defs.homeMode,
    newHome,
    skel: facts.skel,
    keys,
    summary: `set up ${user.name}'s home (${describeUser(user)})`,
    details: [
      `${home} owned by ${user.name}, the files of ${USERS.skel} it lacks`,
      keys === null
        ? 'no authorized_keys (no keys)'
        : `${home}/${USERS.keysPath} (${count(user.keys.length, 'key')}, mode 0600, .ssh 0700)`,
    ],
  };
}

/** The homes were written without an fsync each: one flush of their filesystem, then the state says so. */
function recordCreated(names: readonly string[]): UsersAction[] {
  const created = [...names].sort();
  if (created.length === 0) return [];
  const flush = ['--file-system', '--', USERS.homeBase];
  return [
    {
      kind: 'flush-homes',
      summary: `write the new homes to disk (${shown('sync', flush)})`,
      details: [shown('sync', flush)],
    },
    recordState({ created }, `${created.join(', ')} set up`),
  ];
}

function recordState(change: StateChange, detail: string): UsersAction {
  return { kind: 'record-state', change, summary: `record the managed users in ${USERS.stateFile}`, details: [detail] };
}

function recordSource(record: SourceCacheRecord): UsersAction {
  return {
    kind: 'record-source',
    record,
    summary: `keep ${record.source} (generation ${record.generation.version}) in ${USERS.sourceCacheFile}`,
    details: [`${Object.keys(record.parameters).length} parameters; read again when the generation changes`],
  };
}

/** The authorized_keys text for these keys, or null for none (no file). */
export function keysText(keys: readonly string[]): string | null {
  return keys.length === 0 ? null : `${KEYS_FILE_HEADER}${keys.map((key) => `${key}\n`).join('')}`;
}

function createGroup(group: string): UsersAction {
  return {
    kind: 'create-group',
    group,
    summary: `create the group ${group}`,
    details: [`groupadd --system -- ${group}`],
  };
}

function sshdConfig(): UsersAction {
  return {
    kind: 'write-sshd-config',
    summary: `write ${USERS.sshdDropIn}: managed users log in only with the keys of the source (checked with sshd -t)`,
    details: SSHD_DROP_IN_TEXT.trimEnd().split('\n'),
  };
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

function setPasswords(users: readonly string[]): UsersAction[] {
  if (users.length === 0) return [];
  return [
    {
      kind: 'set-passwords',
      users,
      affects: users,
      summary: `remove the password of ${users.join(', ')} (managed accounts log in with keys only)`,
      details: [`chpasswd -e, reading ${users.map((name) => `${name}:${NO_PASSWORD}`).join(' ')}`],
    },
  ];
}

function wantedExpire(user: DesiredUser): string {
  return user.expireDay === null ? '' : String(user.expireDay);
}

function modifyUser(user: DesiredUser, managed: ManagedUser, settings: UsersPlanSettings): UsersAction | null {
  const { account } = managed;
  const expire = wantedExpire(user);
  const usermod = [
    ...(account.shell === settings.shell ? [] : ['-s', settings.shell]),
    ...(managed.expire === expire ? [] : ['-e', expire]),
  ];
  if (usermod.length === 0) return null;
  const changes = [
    ...(account.shell === settings.shell ? [] : [`shell ${account.shell} -> ${settings.shell}`]),
    ...(isLocked(managed) ? ['unlock (back in the source)'] : []),
    ...(managed.expire === expire || isLocked(managed)
      ? []
      : [expire === '' ? 'no expiry' : `expires ${user.expires}`]),
  ];
  const args = [...usermod, '--', user.name];
  return {
    kind: 'modify-user',
    user: user.name,
    usermod: args,
    summary: `update user ${user.name}: ${changes.join('; ')}`,
    details: [shown('usermod', args)],
  };
}

function planKeys(user: DesiredUser, managed: ManagedUser): UsersAction | null {
  const { account } = managed;
  const { keys } = managed.home;
  if (keys.kind === 'refused') return null;
  const text = keysText(user.keys);
  const why = user.expired ? ` (expired at ${user.expires})` : '';
  if (text === null) {
    if (keys.text === null) return null;
    return {
      kind: 'remove-keys',
      user: user.name,
      home: account.home,
      summary: `remove ${user.name}'s authorized_keys${why || ' (no keys listed)'}`,
    };
  }
  if (keys.text === text && keys.settled) return null;
  const what =
    keys.text === text ? `${count(user.keys.length, 'key')}: owner or mode only` : count(user.keys.length, 'key');
  return {
    kind: 'write-keys',
    user: user.name,
    home: account.home,
    uid: account.uid,
    gid: account.gid,
    text,
    summary: `write ${user.name}'s authorized_keys (${what})`,
    details: [`${account.home}/${USERS.keysPath}, owner ${account.uid}:${account.gid}, mode 0600, .ssh 0700`],
  };
}

/** The account first (password locked, expired: PAM refuses it whatever happens to the home), then the keys. */
function lockUser(user: ManagedUser): UsersAction[] {
  const { account } = user;
  const { keys } = user.home;
  // A link planted as authorized_keys is removed too (never its target): it could hold keys of the user's choosing.
  const removeKeys = keys.kind === 'readable' ? keys.text !== null : keys.linkedFile;
  const usermod = isLocked(user) ? null : ['-L', '-e', USERS.lockedExpireDay, '--', account.name];
  if (usermod === null && !removeKeys) return [];
  return [
    {
      kind: 'lock-user',
      user: account.name,
      home: account.home,
      removeKeys,
      usermod,
      summary: `lock user ${account.name} (gone from the source)`,
      details: [
        ...(usermod ? [shown('usermod', usermod)] : []),
        ...(removeKeys ? [`remove ${account.home}/${USERS.keysPath}`] : []),
      ],
    },
  ];
}

function endSessions(facts: UsersFacts, user: ManagedUser): UsersAction[] {
  const pids = facts.processes.get(user.account.uid) ?? [];
  if (pids.length === 0) return [];
  const name = user.account.name;
  const processes = count(pids.length, 'process', 'processes');
  return [
    {
      kind: 'end-sessions',
      user: name,
      uid: user.account.uid,
      summary: `end ${name}'s sessions and processes (${processes}: ${pids.join(' ')})`,
      details: [
        `loginctl terminate-user -- ${name}`,
        `kill -s KILL -- PID… for each process of uid ${user.account.uid} left, until none is`,
      ],
    },
  ];
}

function deleteUser(user: ManagedUser): UsersAction {
  const { account } = user;
  // userdel --remove on a home that is a link would empty whatever it points to.
  const removeHome = user.home.isDirectory;
  const userdel = [...(removeHome ? ['--remove'] : []), '--', account.name];
  const home = removeHome ? ' and its home' : ' (its home is not a directory: left as it is)';
  return {
    kind: 'delete-user',
    user: account.name,
    uid: account.uid,
    retire: true,
    userdel,
    summary: `delete user ${account.name}${home} (gone from the source; USERS_REMOVE=delete)`,
    details: [`retire uid ${account.uid} in ${USERS.stateFile}`, shown('userdel', userdel)],
  };
}

function describeUser(user: DesiredUser): string {
  const parts = [count(user.keys.length, 'key')];
  if (user.sudo) parts.push('sudo');
  if (user.groups.length > 0) parts.push(`groups ${user.groups.join(',')}`);
  if (user.expired) parts.push(`expired at ${user.expires}`);
  else if (user.expires !== null) parts.push(`expires ${user.expires}`);
  return parts.join(', ');
}

export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A command as an operator would type it: arguments with spaces or shell characters quoted. */
export function shown(tool: string, args: readonly string[]): string {
  return [
    tool,
    ...args.map((arg) => (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`)),
  ].join(' ');
}

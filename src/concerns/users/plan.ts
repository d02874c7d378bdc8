import type { Command } from '../../core/command.ts';
import type { Action } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { type RemovalLimit } from '../../core/config/users.ts';
import { type EditStep, type Step, writeStep } from '../../core/step.ts';
import type { DesiredUser } from './document.ts';
import type { ManagedUser, UsersFacts } from './facts.ts';
import { homeSteps, keysRemoval, keysText, keysWrite } from './plan-homes.ts';
import { planMembers } from './plan-members.ts';
import { checkRemovals, isLocked } from './removals.ts';
import { SUDOERS_TEXT, USERS } from './settings.ts';
import { terminateCommand } from './sessions.ts';
import { type SourceCacheRecord, sourceCacheText } from './source-cache.ts';
import { type SshdAction, sshdDropInChange } from './sshd.ts';
import { type StateChange, stateEdit } from './state.ts';

/**
 * Pure: the steps from the facts to the source's users. Every account tool call and every file written is carried
 * in the action's steps exactly as apply runs them, so `--dry-run` shows the real commands. Nothing is planned for
 * what already matches.
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
    | { readonly kind: 'lock-user'; readonly user: string }
    /** terminate: logind's end of the sessions; the processes left are found and killed when the step runs. */
    | { readonly kind: 'end-sessions'; readonly user: string; readonly uid: number; readonly terminate: Command }
    | ({ readonly kind: 'delete-user'; readonly user: string } & Deletion)
    | { readonly kind: 'create-group'; readonly group: string }
    | ({ readonly kind: 'write-sshd-config' } & SshdAction)
    | { readonly kind: 'write-sudoers' }
    | { readonly kind: 'modify-user'; readonly user: string }
    | { readonly kind: 'set-passwords'; readonly users: readonly string[] }
    | { readonly kind: 'set-members'; readonly group: string }
    | { readonly kind: 'write-keys'; readonly user: string }
    | { readonly kind: 'remove-keys'; readonly user: string }
    | { readonly kind: 'record-state'; readonly change: StateChange }
    | {
        readonly kind: 'create-accounts';
        readonly accounts: readonly NewAccount[];
        readonly newusers: Command;
        readonly chpasswd: Command;
      }
    | { readonly kind: 'set-up-home'; readonly user: string }
    | { readonly kind: 'flush-homes' }
    | { readonly kind: 'record-source'; readonly record: SourceCacheRecord }
  );

/** A deletion as deleteUser runs it: the uid retired first (when it is to be), userdel, then the name forgotten. */
export interface Deletion {
  readonly retire: EditStep | null;
  readonly userdel: Command;
  readonly forget: EditStep | null;
}

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
    ...users.finishing.map(({ user, managed }) => setUpHome(facts, user, managed.account)),
    ...recordCreated(facts, [...users.finishing.map(({ user }) => user.name), ...created]),
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
  gone.sort((a, b) => byName(a.account.name, b.account.name));
  const desired = [...facts.desired].sort((a, b) => byName(a.name, b.name));
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

/**
 * The order of the state file and the group lists (.sort()): names are ASCII, and locale-aware comparison would
 * load ICU's collation data (10 ms of a sync with nothing to do) to order them the same way but for "_" and "-".
 */
function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
  return [...facts.missingGroups.map(createGroup), ...optional(sshdConfig(facts)), ...sudoers(facts, desired)];
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
  const state = creating.length > 0 || vanished.length > 0 ? [recordState({ creating, forget: vanished })] : [];
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
    ...redo.map((account) => {
      const deletion = { retire: null, userdel: tool('userdel', ['--', account.name]), forget: null };
      const summary = `delete ${account.name}'s incomplete account (a creation was interrupted), to make it again`;
      return { kind: 'delete-user' as const, user: account.name, ...deletion, summary, steps: deletionSteps(deletion) };
    }),
    createAccounts(accounts, settings.shell),
    ...toCreate.flatMap((user) => (user.expireDay === null ? [] : [expireNewUser(user)])),
    ...members,
    ...toCreate.map((user) => setUpHome(facts, user, ids.get(user.name) as NewAccount)),
  ];
}

/** An account tool, as plan shows it and apply runs it. */
function tool(file: string, args: readonly string[], input?: string): Command {
  return input === undefined ? { file, args } : { file, args, input };
}

function createAccounts(accounts: readonly NewAccount[], shell: string): UsersAction {
  // Empty password field: newusers' PAM step then fails at once instead of setting a password (Debian builds set
  // every password through PAM, which also costs a hash per user); chpasswd -e then writes "*".
  const lines = accounts.map(
    ({ name, uid, gid }) => `${name}::${uid}:${gid}:${USERS.comment}:${USERS.homeBase}/${name}:${shell}\n`,
  );
  const newusers = tool('newusers', [], lines.join(''));
  const chpasswd = noPassword(accounts.map((account) => account.name));
  const check = 'each account read back from the databases (newusers exits 1 after writing them: PAM sets no password)';
  return {
    kind: 'create-accounts',
    accounts,
    newusers,
    chpasswd,
    summary: `create ${count(accounts.length, 'account')}: ${accounts.map((account) => account.name).join(', ')}`,
    steps: [{ run: newusers }, { note: check }, { run: chpasswd }],
  };
}

/** chpasswd -e writes the field as given, without PAM: "*", no password, so only keys log in. */
export function noPassword(users: readonly string[]): Command {
  return tool('chpasswd', ['-e'], users.map((name) => `${name}:${NO_PASSWORD}\n`).join(''));
}

function expireNewUser(user: DesiredUser): UsersAction {
  const usermod = tool('usermod', ['-e', String(user.expireDay), '--', user.name]);
  return {
    kind: 'modify-user',
    user: user.name,
    summary: `set ${user.name}'s account expiry (${user.expires})`,
    steps: [{ run: usermod }],
  };
}

function setUpHome(facts: UsersFacts, user: DesiredUser, ids: { uid: number; gid: number }): UsersAction {
  return {
    kind: 'set-up-home',
    user: user.name,
    summary: `set up ${user.name}'s home (${describeUser(user)})`,
    steps: homeSteps(facts, user, ids),
  };
}

/** The homes were written without an fsync each: one flush of their filesystem, then the state says so. */
function recordCreated(facts: UsersFacts, names: readonly string[]): UsersAction[] {
  const created = [...names].sort();
  if (created.length === 0) return [];
  const flush: Command = { file: 'sync', args: ['--file-system', '--', facts.local.homes], target: 'local' };
  return [
    { kind: 'flush-homes', summary: `write the new homes to disk (sync --file-system)`, steps: [{ run: flush }] },
    recordState({ created }),
  ];
}

function recordState(change: StateChange): UsersAction {
  return {
    kind: 'record-state',
    change,
    summary: `record the managed users in ${USERS.stateFile}`,
    steps: [stateEdit(change)],
  };
}

function recordSource(record: SourceCacheRecord): UsersAction {
  const holds =
    `${count(Object.keys(record.parameters).length, 'parameter')} as read, ` +
    'read again when the generation changes (values not shown)';
  return {
    kind: 'record-source',
    record,
    summary: `keep ${record.source} (generation ${record.generation.version}) in ${USERS.sourceCacheFile}`,
    steps: [writeStep(USERS.sourceCacheFile, sourceCacheText(record), { mode: 0o600, holds })],
  };
}

function createGroup(group: string): UsersAction {
  return {
    kind: 'create-group',
    group,
    summary: `create the group ${group}`,
    steps: [{ run: tool('groupadd', ['--system', '--', group]) }],
  };
}

function sshdConfig(facts: UsersFacts): UsersAction | null {
  const change = sshdDropInChange(facts.sshd);
  if (change === null) return null;
  const summary = `write ${USERS.sshdDropIn}: managed users log in only with the keys of the source`;
  return { kind: 'write-sshd-config', summary, ...change };
}

/**
 * sudo reads every file in sudoers.d: a broken one would lock out sudo for everybody, so the file is written under
 * a name sudo skips, checked, and only then renamed into place (applySudoers removes it when the check fails).
 */
function sudoers(facts: UsersFacts, desired: readonly DesiredUser[]): UsersAction[] {
  const wanted = facts.sudoers !== null || desired.some((user) => user.sudo);
  if (!wanted || facts.sudoers === SUDOERS_TEXT) return [];
  const check: Command = { file: 'visudo', args: ['-cf', facts.local.sudoersTemp], target: 'local' };
  return [
    {
      kind: 'write-sudoers',
      summary: `write ${USERS.sudoersFile} (checked with visudo -cf, then renamed into place)`,
      steps: [
        writeStep(USERS.sudoersTemp, SUDOERS_TEXT, { mode: 0o440, before: facts.sudoers }),
        { run: check },
        { rename: USERS.sudoersTemp, to: USERS.sudoersFile },
      ],
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
      steps: [{ run: noPassword(users) }],
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
  return {
    kind: 'modify-user',
    user: user.name,
    summary: `update user ${user.name}: ${changes.join('; ')}`,
    steps: [{ run: tool('usermod', [...usermod, '--', user.name]) }],
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
      summary: `remove ${user.name}'s authorized_keys${why || ' (no keys listed)'}`,
      steps: [keysRemoval(account.home)],
    };
  }
  if (keys.text === text && keys.settled) return null;
  const what =
    keys.text === text ? `${count(user.keys.length, 'key')}: owner or mode only` : count(user.keys.length, 'key');
  const into = { below: account.home, uid: account.uid, gid: account.gid, durable: true };
  return {
    kind: 'write-keys',
    user: user.name,
    summary: `write ${user.name}'s authorized_keys (${what})`,
    steps: [keysWrite(into, text, keys.text, false)],
  };
}

/** The account first (password locked, expired: PAM refuses it whatever happens to the home), then the keys. */
function lockUser(user: ManagedUser): UsersAction[] {
  const { account } = user;
  const { keys } = user.home;
  // A link planted as authorized_keys is removed too (never its target): it could hold keys of the user's choosing.
  const removeKeys = keys.kind === 'readable' ? keys.text !== null : keys.linkedFile;
  const usermod: Step[] = isLocked(user)
    ? []
    : [{ run: tool('usermod', ['-L', '-e', USERS.lockedExpireDay, '--', account.name]) }];
  const steps = [...usermod, ...(removeKeys ? [keysRemoval(account.home)] : [])];
  if (steps.length === 0) return [];
  const summary = `lock user ${account.name} (gone from the source)`;
  return [{ kind: 'lock-user', user: account.name, summary, steps }];
}

function endSessions(facts: UsersFacts, user: ManagedUser): UsersAction[] {
  const pids = facts.processes.get(user.account.uid) ?? [];
  if (pids.length === 0) return [];
  const { name, uid } = user.account;
  const processes = count(pids.length, 'process', 'processes');
  const terminate = terminateCommand(name);
  const untilNone = 'until none is (loginctl failing is only logged)';
  const kill = `kill -s KILL -- PID… of each process of uid ${uid} left, ${untilNone}`;
  return [
    {
      kind: 'end-sessions',
      user: name,
      uid,
      terminate,
      summary: `end ${name}'s sessions and processes (${processes}: ${pids.join(' ')})`,
      steps: [{ run: terminate }, { note: kill }],
    },
  ];
}

function deleteUser(user: ManagedUser): UsersAction {
  const { account } = user;
  // userdel --remove on a home that is a link would empty whatever it points to.
  const removeHome = user.home.isDirectory;
  const userdel = tool('userdel', [...(removeHome ? ['--remove'] : []), '--', account.name]);
  const deletion = {
    retire: stateEdit({ retireUids: [account.uid] }),
    userdel,
    forget: stateEdit({ forget: [account.name] }),
  };
  const home = removeHome ? ' and its home' : ' (its home is not a directory: left as it is)';
  return {
    kind: 'delete-user',
    user: account.name,
    ...deletion,
    summary: `delete user ${account.name}${home} (gone from the source; USERS_REMOVE=delete)`,
    steps: deletionSteps(deletion),
  };
}

/** The uid is retired before userdel runs, so that a kill between the two cannot free it. */
function deletionSteps(deletion: Deletion): Step[] {
  const busy =
    'userdel exiting 8 (processes left): the account stays locked, deleted at a later sync; ' +
    'exiting 12: deleted, its home left, the step fails';
  return [
    ...(deletion.retire ? [deletion.retire] : []),
    { run: deletion.userdel },
    { note: busy },
    ...(deletion.forget ? [deletion.forget] : []),
  ];
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

import type { ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { readTextIfExists, type Host } from '../../host/host.ts';
import { type Account, type Accounts, isComplete, membershipsByUser, readAccounts } from './accounts.ts';
import { type DesiredUser, type Rejection, validateEntries } from './document.ts';
import { type ExistingHome, type Home, readExistingHome, readHomes, readSkel, type SkelFile } from './homes.ts';
import { processesOf, type ProcessesByUid } from './processes.ts';
import { USERS } from './settings.ts';
import type { SourceCacheRecord } from './source-cache.ts';
import { describeSource, readSource, type SourceOptions } from './source.ts';
import { gatherSshd, type SshdFacts } from './sshd.ts';
import { readState, type UsersState } from './state.ts';

/** What the users concern plans from: the source, validated, and the accounts it manages. */
export interface UsersFacts {
  readonly source: string;
  /** How the source was read (an ssm: generation found unchanged …), or null. */
  readonly sourceNote: string | null;
  /** A full read of an ssm: source to keep for the next syncs. */
  readonly sourceCache: SourceCacheRecord | null;
  /** Valid entries whose account is the agent's or does not exist yet. */
  readonly desired: readonly DesiredUser[];
  /** Every name the source lists, valid or not: a rejected entry leaves its account as it is. */
  readonly listed: readonly string[];
  /** Entries rejected and accounts the agent will not touch, reported on every sync. */
  readonly rejections: readonly Rejection[];
  readonly state: UsersState;
  /** Accounts the agent manages, complete ones and ones it is still creating. */
  readonly managed: ReadonlyMap<string, ManagedUser>;
  /** Accounts a killed creation left with some of their database entries missing: made again from scratch. */
  readonly incomplete: readonly Account[];
  /** State entries whose account no longer exists: forgotten. */
  readonly vanished: readonly string[];
  readonly accounts: Accounts;
  /** USERS_ALLOWED_GROUPS, with docker when USERS_ALLOW_DOCKER_GROUP=yes. */
  readonly allowedGroups: ReadonlySet<string>;
  /** The agent's own groups that do not exist yet. */
  readonly missingGroups: readonly string[];
  readonly sudoers: string | null;
  readonly sshd: SshdFacts;
  /** Processes of the users whose access ends (gone from the source, or expired), by uid. */
  readonly processes: ProcessesByUid;
  /**
   * The homes of the users whose creation this sync finishes (a killed one's), as they are: those still being
   * created, and those to create whose /home/NAME is already there. Any other user to create gets a new home.
   */
  readonly existingHomes: ReadonlyMap<string, ExistingHome>;
  /** /etc/skel, read only when a home is to be made. */
  readonly skel: readonly SkelFile[];
  /** Paths of this machine, for the tools that run on it rather than on the managed system. */
  readonly local: LocalPaths;
  /** --root: an image, where no process runs and no sshd is reloaded. */
  readonly imageRoot: boolean;
}

export interface LocalPaths {
  /** /home: flushed to disk (sync), a home given its owner (chown). */
  readonly homes: string;
  /** The sudoers file before it is renamed into place, checked by visudo. */
  readonly sudoersTemp: string;
}

export interface ManagedUser {
  readonly account: Account;
  /** Supplementary groups, sorted. */
  readonly groups: readonly string[];
  /** The shadow password field ("*", "!*" …). */
  readonly password: string;
  readonly expire: string;
  readonly home: Home;
  /** Listed in the state as being created: its home, skel and keys are (re)done. */
  readonly creating: boolean;
}

export async function gatherUsers(
  context: ConcernContext,
  source: UsersSource,
  options: SourceOptions,
): Promise<UsersFacts> {
  const { host, config } = context;
  const read = await readSource(context, source, options);
  const [accounts, state, sudoers, sshd] = await Promise.all([
    readAccounts(host),
    readState(host),
    readTextIfExists(host, USERS.sudoersFile),
    gatherSshd(host, context.logger),
  ]);
  const allowedGroups = new Set([
    ...config.USERS_ALLOWED_GROUPS,
    ...(config.USERS_ALLOW_DOCKER_GROUP ? ['docker'] : []),
  ]);
  const rules = { existingGroups: new Set(accounts.groups.keys()), allowedGroups, now: host.now() };
  const { users, rejections } = validateEntries(read.entries, rules);
  const ownership = findManaged(accounts, state);
  const homes = await readHomes(host, ownership.managed);
  const unmanageable = new Set(ownership.unmanageable.map((problem) => problem.user));
  const managedAccounts = new Set(ownership.managed);
  const homeTaken = await takenHomes(
    host,
    users.filter((user) => !accounts.users.has(user.name)).map((user) => user.name),
  );
  const desired = users.filter((user) => {
    if (unmanageable.has(user.name)) return false;
    const conflict = conflictOf(user.name, accounts, state, managedAccounts, homeTaken.has(user.name));
    if (conflict) rejections.push({ user: user.name, error: `${conflict}; skipped` });
    return conflict === null;
  });
  const managed = describeManaged(accounts, state, ownership.managed, homes);
  const needsSkel = desired.some((user) => managed.get(user.name)?.creating !== false);
  const skel = needsSkel ? await readSkel(host) : [];
  const finishing = desired.filter((user) => managed.get(user.name)?.creating ?? homeTaken.has(user.name));
  return {
    source: describeSource(source),
    sourceNote: read.note,
    sourceCache: read.cache,
    desired,
    listed: read.entries.map((entry) => entry.name),
    rejections: [...ownership.unmanageable, ...rejections],
    state,
    managed,
    incomplete: ownership.incomplete,
    vanished: state.managedUsers.filter((name) => !accounts.users.has(name)),
    accounts,
    allowedGroups,
    missingGroups: [USERS.markerGroup, USERS.sudoGroup].filter((group) => !accounts.groups.has(group)),
    sudoers,
    sshd,
    processes: await processesOf(host, endingUids(managed, new Set(read.entries.map((entry) => entry.name)), desired)),
    existingHomes: await readExistingHomes(host, finishing, skel),
    skel,
    local: { homes: await host.localPath(USERS.homeBase), sudoersTemp: await host.localPath(USERS.sudoersTemp) },
    imageRoot: host.root !== '/',
  };
}

interface Ownership {
  readonly managed: readonly Account[];
  readonly incomplete: readonly Account[];
  /** State entries the agent no longer treats as its own, and why. */
  readonly unmanageable: readonly Rejection[];
}

/**
 * Managed: listed in the state file, a regular account (uid from UID_MIN), and a member of the marker group, or,
 * while being created, complete in the account databases (a killed creation may not have reached the marker group).
 */
function findManaged(accounts: Accounts, state: UsersState): Ownership {
  const markerMembers = new Set(accounts.groups.get(USERS.markerGroup)?.members ?? []);
  const creating = new Set(state.creating);
  const managed: Account[] = [];
  const incomplete: Account[] = [];
  const unmanageable: Rejection[] = [];
  for (const name of state.managedUsers) {
    const account = accounts.users.get(name);
    if (account === undefined) continue;
    if (!isRegular(account, accounts)) {
      const { uidMin } = accounts.defs;
      const problem = `uid ${account.uid} is below UID_MIN ${uidMin} (changed since the agent created it?)`;
      unmanageable.push({
        user: name,
        error: `${problem}: no longer managed, not synced, locked or deleted; fix the uid or remove the account`,
      });
    } else if (creating.has(name)) {
      (isComplete(account, accounts) ? managed : incomplete).push(account);
    } else if (markerMembers.has(name)) {
      managed.push(account);
    }
  }
  return { managed, incomplete, unmanageable };
}

function isRegular(account: Account, accounts: Accounts): boolean {
  return account.uid !== 0 && account.uid >= accounts.defs.uidMin;
}

function conflictOf(
  name: string,
  accounts: Accounts,
  state: UsersState,
  managed: ReadonlySet<Account>,
  homeTaken: boolean,
): string | null {
  const account = accounts.users.get(name);
  const creating = state.creating.includes(name);
  if (account === undefined) {
    if (accounts.groups.has(name))
      return `a group named ${name} already exists (the agent gives each user a group of its name)`;
    // A home its own killed creation made is finished; any other is somebody's files, never handed to a new account.
    if (homeTaken && !creating)
      return `${USERS.homeBase}/${name} already exists (left by an earlier account?); move it away to create ${name}`;
    return null;
  }
  if (managed.has(account) || creating) return null;
  if (!isRegular(account, accounts))
    return `${name} is a system account (uid ${account.uid}, UID_MIN ${accounts.defs.uidMin})`;
  return `the account ${name} already exists and was not created by ecs-host-agent`;
}

/** Names to create whose home path is already taken. */
async function takenHomes(host: Host, names: readonly string[]): Promise<Set<string>> {
  const taken = await Promise.all(
    names.map(async (name) => ((await host.lstat(`${USERS.homeBase}/${name}`)) === null ? null : name)),
  );
  return new Set(taken.filter((name) => name !== null));
}

async function readExistingHomes(
  host: Host,
  users: readonly DesiredUser[],
  skel: readonly SkelFile[],
): Promise<Map<string, ExistingHome>> {
  const homes = await Promise.all(users.map((user) => readExistingHome(host, `${USERS.homeBase}/${user.name}`, skel)));
  return new Map(users.map((user, index) => [user.name, homes[index] as ExistingHome]));
}

function describeManaged(
  accounts: Accounts,
  state: UsersState,
  managed: readonly Account[],
  homes: ReadonlyMap<string, Home>,
): Map<string, ManagedUser> {
  const memberships = membershipsByUser(accounts.groups);
  const creating = new Set(state.creating);
  return new Map(
    managed.map((account) => {
      const shadow = accounts.shadow.get(account.name);
      const user: ManagedUser = {
        account,
        groups: memberships.get(account.name) ?? [],
        password: shadow?.password ?? '',
        expire: shadow?.expire ?? '',
        home: homes.get(account.name) as Home,
        creating: creating.has(account.name),
      };
      return [account.name, user];
    }),
  );
}

/** Users whose access ends in this sync or has ended: gone from the source, or past their expiry. */
function endingUids(
  managed: ReadonlyMap<string, ManagedUser>,
  listed: ReadonlySet<string>,
  desired: readonly DesiredUser[],
): Set<number> {
  const expired = new Set(desired.filter((user) => user.expired).map((user) => user.name));
  return new Set(
    [...managed.values()]
      .filter(({ account }) => !listed.has(account.name) || expired.has(account.name))
      .map(({ account }) => account.uid),
  );
}

import type { ConcernContext } from '../../core/concern.ts';
import type { UsersSource } from '../../core/config/keys.ts';
import { readTextIfExists, type Host, UnsafePathError } from '../../host/host.ts';
import { type Account, type Accounts, membershipsByUser, readAccounts } from './accounts.ts';
import { type DesiredUser, type Rejection, validateEntries } from './document.ts';
import { USERS } from './settings.ts';
import { describeSource, readSource, type SourceOptions } from './source.ts';
import { readState } from './state.ts';

/** What the users concern plans from: the source, validated, and the accounts it manages. */
export interface UsersFacts {
  readonly source: string;
  /** Valid entries whose account is the agent's or does not exist yet. */
  readonly desired: readonly DesiredUser[];
  /** Every name the source lists, valid or not: a rejected entry leaves its account as it is. */
  readonly listed: readonly string[];
  readonly rejections: readonly Rejection[];
  readonly state: readonly string[];
  /** State entries whose account still exists. */
  readonly stateKept: readonly string[];
  readonly managed: ReadonlyMap<string, ManagedUser>;
  /** The agent's own groups that do not exist yet. */
  readonly missingGroups: readonly string[];
  readonly sudoers: string | null;
}

export interface ManagedUser {
  readonly account: Account;
  /** Supplementary groups, sorted. */
  readonly groups: readonly string[];
  readonly locked: boolean;
  readonly expire: string;
  readonly keys: HomeKeys;
}

export type HomeKeys =
  /** text null: no authorized_keys; settled: .ssh and the file have the agent's mode and the user as owner. */
  | { readonly kind: 'readable'; readonly text: string | null; readonly settled: boolean }
  /** A symlink or other trap in the home: nothing is written there. linkedFile: only authorized_keys itself is a link (removable). */
  | { readonly kind: 'refused'; readonly reason: string; readonly linkedFile: boolean };

/** Homes are read this many at a time: each read holds a few descriptors open. */
const HOME_READS_AT_ONCE = 64;

export async function gatherUsers(context: ConcernContext, source: UsersSource, options: SourceOptions): Promise<UsersFacts> {
  const { host, config } = context;
  const entries = await readSource(context, source, options);
  const [accounts, state, sudoers] = await Promise.all([readAccounts(host), readState(host), readTextIfExists(host, USERS.sudoersFile)]);
  const rules = { groups: new Set(accounts.groups.keys()), allowDockerGroup: config.USERS_ALLOW_DOCKER_GROUP, now: host.now() };
  const { users, rejections } = validateEntries(entries, rules);
  const managedAccounts = findManaged(accounts, state);
  const desired = users.filter((user) => {
    const conflict = conflictOf(user.name, accounts, managedAccounts);
    if (conflict) rejections.push({ user: user.name, error: `${conflict}; skipped` });
    return conflict === null;
  });
  return {
    source: describeSource(source),
    desired,
    listed: entries.map((entry) => entry.name),
    rejections,
    state,
    stateKept: state.filter((name) => accounts.users.has(name)),
    managed: await describeManaged(host, accounts, managedAccounts),
    missingGroups: [USERS.markerGroup, USERS.sudoGroup].filter((group) => !accounts.groups.has(group)),
    sudoers,
  };
}

/** Listed in the state file, a member of the marker group, and a regular (not a system) account. */
function findManaged(accounts: Accounts, state: readonly string[]): Account[] {
  const markerMembers = new Set(accounts.groups.get(USERS.markerGroup) ?? []);
  return state.flatMap((name) => {
    const account = accounts.users.get(name);
    return account && markerMembers.has(name) && isRegular(account, accounts) ? [account] : [];
  });
}

function isRegular(account: Account, accounts: Accounts): boolean {
  return account.uid !== 0 && account.uid >= accounts.uidMin;
}

function conflictOf(name: string, accounts: Accounts, managed: readonly Account[]): string | null {
  const account = accounts.users.get(name);
  if (account === undefined) return accounts.groups.has(name) ? `a group named ${name} already exists (the agent gives each user a group of its name)` : null;
  if (managed.includes(account)) return null;
  if (!isRegular(account, accounts)) return `${name} is a system account (uid ${account.uid}, UID_MIN ${accounts.uidMin})`;
  return `the account ${name} already exists and was not created by ecs-host-agent`;
}

async function describeManaged(host: Host, accounts: Accounts, managed: readonly Account[]): Promise<Map<string, ManagedUser>> {
  const memberships = membershipsByUser(accounts.groups);
  const described = new Map<string, ManagedUser>();
  for (let start = 0; start < managed.length; start += HOME_READS_AT_ONCE) {
    const batch = managed.slice(start, start + HOME_READS_AT_ONCE);
    const keys = await Promise.all(batch.map((account) => readHomeKeys(host, account)));
    batch.forEach((account, index) => {
      const shadow = accounts.shadow.get(account.name);
      described.set(account.name, {
        account,
        groups: memberships.get(account.name) ?? [],
        locked: shadow?.locked ?? false,
        expire: shadow?.expire ?? '',
        keys: keys[index] as HomeKeys,
      });
    });
  }
  return described;
}

/** Reads ~/.ssh/authorized_keys without following any link the user may have planted. */
export async function readHomeKeys(host: Host, account: Account): Promise<HomeKeys> {
  const sshDir = await host.lstat(`${account.home}/.ssh`);
  if (sshDir?.kind === 'symlink') return refused(`${account.home}/.ssh is a symbolic link; refusing to follow it`);
  if (sshDir !== null && sshDir.kind !== 'directory') return refused(`${account.home}/.ssh is not a directory`);
  try {
    const file = await host.readFileNoFollow(account.home, USERS.keysPath, USERS.maxKeysFileBytes);
    const owned = (info: { uid: number; gid: number; mode: number }, mode: number) => info.uid === account.uid && info.gid === account.gid && info.mode === mode;
    const settled = sshDir !== null && owned(sshDir, USERS.sshDirMode) && (file === null || owned(file.info, USERS.keysFileMode));
    return { kind: 'readable', text: file && Buffer.from(file.data).toString('utf8'), settled };
  } catch (error) {
    if (error instanceof UnsafePathError) return refused(error.message, (await host.lstat(`${account.home}/${USERS.keysPath}`))?.kind === 'symlink');
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return refused(`the home directory ${account.home} does not exist`);
    throw error;
  }
}

function refused(reason: string, linkedFile = false): HomeKeys {
  return { kind: 'refused', reason, linkedFile };
}

import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';

/** The account databases as the account tools left them: passwd, group, shadow, gshadow and login.defs. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface Group {
  readonly gid: number;
  /** Supplementary members, as listed in /etc/group. */
  readonly members: readonly string[];
}

export interface Accounts {
  readonly users: ReadonlyMap<string, Account>;
  readonly groups: ReadonlyMap<string, Group>;
  readonly shadow: ReadonlyMap<string, ShadowEntry>;
  /** Group name to its members in /etc/gshadow; null when the system has no gshadow. */
  readonly gshadow: ReadonlyMap<string, readonly string[]> | null;
  readonly defs: LoginDefs;
}

export interface ShadowEntry {
  /** The password field as written: "*" no password, "!*" locked by `usermod -L`. */
  readonly password: string;
  /** The account expiry field as written (days since 1970), "" when it never expires. */
  readonly expire: string;
}

export interface LoginDefs {
  /** The range of regular accounts (UID_MIN and UID_MAX in login.defs: 1000 and 60000 when unset), and groups. */
  readonly uidMin: number;
  readonly uidMax: number;
  readonly gidMin: number;
  readonly gidMax: number;
  /** The mode useradd and newusers give a new home: HOME_MODE, else 0777 less UMASK. */
  readonly homeMode: number;
}

export async function readAccounts(host: Host): Promise<Accounts> {
  const [passwd, group, shadow, gshadow, loginDefs] = await Promise.all([
    host.readText('/etc/passwd'),
    host.readText('/etc/group'),
    host.readText('/etc/shadow'),
    readTextIfExists(host, '/etc/gshadow'),
    readTextIfExists(host, '/etc/login.defs'),
  ]);
  return {
    users: parsePasswd(passwd),
    groups: parseGroup(group),
    shadow: parseShadow(shadow),
    gshadow: gshadow === null ? null : parseGshadow(gshadow),
    defs: parseLoginDefs(loginDefs ?? ''),
  };
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('+') && !line.startsWith('-'))
    .map((line) => line.split(':'));
}

function memberList(field: string): string[] {
  return field === '' ? [] : field.split(',');
}

export function parsePasswd(text: string): Map<string, Account> {
  const users = new Map<string, Account>();
  for (const [name = '', , uid = '', gid = '', , home = '', shell = ''] of records(text)) {
    users.set(name, { name, uid: Number(uid), gid: Number(gid), home, shell });
  }
  return users;
}

export function parseGroup(text: string): Map<string, Group> {
  const groups = new Map<string, Group>();
  for (const [name = '', , gid = '', members = ''] of records(text))
    groups.set(name, { gid: Number(gid), members: memberList(members) });
  return groups;
}

function parseGshadow(text: string): Map<string, readonly string[]> {
  const groups = new Map<string, readonly string[]>();
  for (const [name = '', , , members = ''] of records(text)) groups.set(name, memberList(members));
  return groups;
}

export function parseShadow(text: string): Map<string, ShadowEntry> {
  const shadow = new Map<string, ShadowEntry>();
  for (const [name = '', password = '', , , , , , expire = ''] of records(text)) shadow.set(name, { password, expire });
  return shadow;
}

export function parseLoginDefs(text: string): LoginDefs {
  const value = (name: string): string | undefined => new RegExp(`^\\s*${name}\\s+(\\S+)\\s*$`, 'm').exec(text)?.[1];
  const number = (name: string, fallback: number): number => {
    const raw = value(name);
    const parsed = raw === undefined ? NaN : raw.startsWith('0') ? parseInt(raw, 8) : Number(raw);
    return Number.isInteger(parsed) ? parsed : fallback;
  };
  return {
    uidMin: number('UID_MIN', 1000),
    uidMax: number('UID_MAX', 60000),
    gidMin: number('GID_MIN', 1000),
    gidMax: number('GID_MAX', 60000),
    homeMode: number('HOME_MODE', 0o777 & ~number('UMASK', 0o22)),
  };
}

/** The supplementary groups each user is a member of, sorted. */
export function membershipsByUser(groups: ReadonlyMap<string, Group>): Map<string, string[]> {
  const memberships = new Map<string, string[]>();
  for (const [group, { members }] of groups) {
    for (const member of members) memberships.set(member, [...(memberships.get(member) ?? []), group]);
  }
  for (const list of memberships.values()) list.sort();
  return memberships;
}

const groupNames = new WeakMap<Accounts, Map<number, string>>();

function groupNameOf(gid: number, accounts: Accounts): string | undefined {
  let names = groupNames.get(accounts);
  if (names === undefined) {
    names = new Map([...accounts.groups].reverse().map(([name, group]) => [group.gid, name]));
    groupNames.set(accounts, names);
  }
  return names.get(gid);
}

/** Every database entry newusers writes for an account is there: passwd, shadow, its group (and gshadow). */
export function isComplete(account: Account, accounts: Accounts): boolean {
  const group = groupNameOf(account.gid, accounts);
  return (
    accounts.shadow.has(account.name) &&
    group !== undefined &&
    (accounts.gshadow === null || accounts.gshadow.has(group))
  );
}

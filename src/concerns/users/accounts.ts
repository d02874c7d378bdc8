import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';

/** The account databases as the account tools left them: /etc/passwd, /etc/group, /etc/shadow, login.defs. */
export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface Accounts {
  readonly users: ReadonlyMap<string, Account>;
  /** Group name to its member list (supplementary memberships). */
  readonly groups: ReadonlyMap<string, readonly string[]>;
  readonly shadow: ReadonlyMap<string, ShadowEntry>;
  /** The lowest uid of a regular account (UID_MIN in login.defs, 1000 when unset). */
  readonly uidMin: number;
}

export interface ShadowEntry {
  /** The password field starts with "!": `usermod -L` was applied. */
  readonly locked: boolean;
  /** The account expiry field as written (days since 1970), "" when it never expires. */
  readonly expire: string;
}

const DEFAULT_UID_MIN = 1000;

export async function readAccounts(host: Host): Promise<Accounts> {
  const [passwd, group, shadow, loginDefs] = await Promise.all([
    host.readText('/etc/passwd'),
    host.readText('/etc/group'),
    host.readText('/etc/shadow'),
    readTextIfExists(host, '/etc/login.defs'),
  ]);
  return { users: parsePasswd(passwd), groups: parseGroup(group), shadow: parseShadow(shadow), uidMin: parseUidMin(loginDefs ?? '') };
}

function records(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('+') && !line.startsWith('-'))
    .map((line) => line.split(':'));
}

export function parsePasswd(text: string): Map<string, Account> {
  const users = new Map<string, Account>();
  for (const [name = '', , uid = '', gid = '', , home = '', shell = ''] of records(text)) {
    users.set(name, { name, uid: Number(uid), gid: Number(gid), home, shell });
  }
  return users;
}

export function parseGroup(text: string): Map<string, readonly string[]> {
  const groups = new Map<string, readonly string[]>();
  for (const [name = '', , , members = ''] of records(text)) groups.set(name, members === '' ? [] : members.split(','));
  return groups;
}

export function parseShadow(text: string): Map<string, ShadowEntry> {
  const shadow = new Map<string, ShadowEntry>();
  for (const [name = '', password = '', , , , , , expire = ''] of records(text)) shadow.set(name, { locked: password.startsWith('!'), expire });
  return shadow;
}

export function parseUidMin(loginDefs: string): number {
  const value = /^\s*UID_MIN\s+(\d+)\s*$/m.exec(loginDefs)?.[1];
  return value === undefined ? DEFAULT_UID_MIN : Number(value);
}

/** The supplementary groups each user is a member of, sorted. */
export function membershipsByUser(groups: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const memberships = new Map<string, string[]>();
  for (const [group, members] of groups) {
    for (const member of members) memberships.set(member, [...(memberships.get(member) ?? []), group]);
  }
  for (const list of memberships.values()) list.sort();
  return memberships;
}

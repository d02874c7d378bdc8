import { USERS } from './settings.ts';
import { KeyProblem, parseSshKey } from './ssh-key.ts';

/**
 * The per-user document every source delivers:
 *   { "sshPublicKeys": [...], "sudo": bool, "groups": [...], "expires": "RFC3339" }
 * Each entry is validated on its own: a bad one is rejected with the field,
 * the value and what is allowed, and the others still sync.
 */
export type SourceEntry = { readonly name: string; readonly document: unknown } | { readonly name: string; readonly error: string };

export interface DesiredUser {
  readonly name: string;
  /** Canonical authorized_keys lines; empty once `expires` has passed. */
  readonly keys: readonly string[];
  readonly sudo: boolean;
  /** Supplementary groups asked for, sorted. */
  readonly groups: readonly string[];
  readonly expires: string | null;
  readonly expired: boolean;
}

export interface Rejection {
  readonly user: string;
  readonly error: string;
}

export interface ValidationRules {
  /** Groups that exist on the managed system. */
  readonly groups: ReadonlySet<string>;
  readonly allowDockerGroup: boolean;
  readonly now: Date;
}

export const NAME_PATTERN = /^[a-z_][a-z0-9_-]{0,31}$/;
const NAME_ALLOWED = `a name matching ${NAME_PATTERN.source}`;
const FIELDS = ['sshPublicKeys', 'sudo', 'groups', 'expires'];
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Accounts a distribution, cloud image or this agent already uses for something else. */
const RESERVED_NAMES = new Set([
  'root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'proxy', 'www-data', 'backup',
  'list', 'irc', 'gnats', 'nobody', 'nogroup', '_apt', 'sshd', 'messagebus', 'polkitd', 'dbus', 'tss', 'chrony', 'postfix',
  'ec2-user', 'ubuntu', 'admin', 'debian', 'halt', 'shutdown', 'operator', 'ftp', 'adm', 'wheel', 'sudo', 'docker', 'ecs',
  'rpc', 'rpcuser', 'nfsnobody', 'dnsmasq', 'ssm-user', USERS.markerGroup, USERS.sudoGroup,
]);

/** Groups that are root by another name; sudo is granted with "sudo": true, the rest never. */
const ROOT_EQUIVALENT_GROUPS = new Set(['root', 'sudo', 'wheel', 'admin', 'adm', 'shadow', 'disk', 'kmem', USERS.sudoGroup, USERS.markerGroup]);

class EntryProblem extends Error {}

export function validateEntries(entries: readonly SourceEntry[], rules: ValidationRules): { users: DesiredUser[]; rejections: Rejection[] } {
  const users: DesiredUser[] = [];
  const rejections: Rejection[] = [];
  for (const entry of entries) {
    try {
      users.push(validateEntry(entry, rules));
    } catch (error) {
      if (!(error instanceof EntryProblem)) throw error;
      rejections.push({ user: entry.name, error: error.message });
    }
  }
  return { users, rejections };
}

function validateEntry(entry: SourceEntry, rules: ValidationRules): DesiredUser {
  checkName(entry.name);
  if ('error' in entry) throw new EntryProblem(entry.error);
  const document = entry.document;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new EntryProblem(`is ${describe(document)}; allowed: an object with ${FIELDS.join(', ')}`);
  }
  const fields = document as Record<string, unknown>;
  const unknown = Object.keys(fields).find((field) => !FIELDS.includes(field));
  if (unknown !== undefined) throw new EntryProblem(`unknown field ${JSON.stringify(unknown)}; allowed: ${FIELDS.join(', ')}`);
  const expires = checkExpires(fields.expires);
  const expired = expires !== null && Date.parse(expires) <= rules.now.getTime();
  const keys = checkKeys(fields.sshPublicKeys);
  return { name: entry.name, keys: expired ? [] : keys, sudo: checkSudo(fields.sudo), groups: checkGroups(fields.groups, rules), expires, expired };
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new EntryProblem(`user name ${problem}`);
}

function nameProblem(name: string): string | null {
  const syntax = (problem: string) => `${problem}; allowed: ${NAME_ALLOWED}`;
  if (name === '') return syntax('is empty');
  if (/[\n\r\0]/.test(name)) return syntax('contains a newline or NUL');
  if (name.startsWith('-')) return syntax('starts with "-" (a tool would read it as an option)');
  if (name.startsWith('.')) return syntax('starts with "."');
  if (name.includes('/')) return syntax('contains "/"');
  if (name.length > 32) return syntax('is longer than 32 characters');
  if (!NAME_PATTERN.test(name)) return syntax('has characters other than a-z, 0-9, "_" and "-", or starts with a digit');
  if (RESERVED_NAMES.has(name) || name.startsWith('systemd-')) return 'is reserved for a system account; allowed: a name no system account uses';
  return null;
}

function checkKeys(value: unknown): string[] {
  if (!Array.isArray(value)) throw new EntryProblem(`sshPublicKeys is ${describe(value)}; allowed: an array of public key strings`);
  if (value.length > USERS.maxKeys) throw new EntryProblem(`sshPublicKeys has ${value.length} keys; allowed: at most ${USERS.maxKeys}`);
  const keys = value.map((key, index) => {
    if (typeof key !== 'string') throw new EntryProblem(`sshPublicKeys[${index}] is ${describe(key)}; allowed: a public key string`);
    try {
      return parseSshKey(key);
    } catch (error) {
      if (error instanceof KeyProblem) throw new EntryProblem(`sshPublicKeys[${index}] ${error.message}`);
      throw error;
    }
  });
  return [...new Set(keys)];
}

function checkSudo(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new EntryProblem(`sudo is ${describe(value)}; allowed: true or false`);
  return value;
}

function checkGroups(value: unknown, rules: ValidationRules): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new EntryProblem(`groups is ${describe(value)}; allowed: an array of group names`);
  if (value.length > USERS.maxGroups) throw new EntryProblem(`groups has ${value.length} entries; allowed: at most ${USERS.maxGroups}`);
  for (const [index, group] of value.entries()) {
    const problem = groupProblem(group, rules);
    if (problem) throw new EntryProblem(`groups[${index}] ${problem}`);
  }
  return [...new Set(value as string[])].sort();
}

function groupProblem(group: unknown, rules: ValidationRules): string | null {
  if (typeof group !== 'string' || !NAME_PATTERN.test(group)) return `${describe(group)} is not a group name; allowed: ${NAME_ALLOWED}`;
  if (group === 'docker' && !rules.allowDockerGroup) return '"docker" is root-equivalent; allowed only with USERS_ALLOW_DOCKER_GROUP=yes';
  if (ROOT_EQUIVALENT_GROUPS.has(group)) return `${JSON.stringify(group)} is root-equivalent and never granted; use "sudo": true for sudo`;
  if (!rules.groups.has(group)) return `${JSON.stringify(group)} does not exist on this host; allowed: existing groups`;
  return null;
}

function checkExpires(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new EntryProblem(`expires is ${describe(value)}; allowed: an RFC 3339 time such as 2026-12-31T23:59:59Z`);
  }
  return value;
}

/** A value for an error message: short, on one line, never a whole key. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}

import { NAME_PATTERN } from '../../core/config/users.ts';
import { NAME_ALLOWED, nameProblem } from './names.ts';
import { USERS } from './settings.ts';
import { KeyProblem, parseSshKey } from './ssh-key.ts';

/**
 * The per-user document every source delivers:
 *   { "sshPublicKeys": [...], "sudo": bool, "groups": [...], "expires": "RFC3339" }
 * Each entry is validated on its own: a bad one is rejected with the field,
 * the value and what is allowed, and the others still sync.
 */
export type SourceEntry =
  { readonly name: string; readonly document: unknown } | { readonly name: string; readonly error: string };

export interface DesiredUser {
  readonly name: string;
  /** Canonical authorized_keys lines; empty once `expires` has passed. */
  readonly keys: readonly string[];
  /** False once `expires` has passed. */
  readonly sudo: boolean;
  /** Supplementary groups asked for, sorted; empty once `expires` has passed. */
  readonly groups: readonly string[];
  readonly expires: string | null;
  /** The account expiry day for shadow (days since 1970-01-01), or null when it never expires. */
  readonly expireDay: number | null;
  readonly expired: boolean;
}

export interface Rejection {
  readonly user: string;
  readonly error: string;
}

export interface ValidationRules {
  /** Groups that exist on the managed system. */
  readonly existingGroups: ReadonlySet<string>;
  /** USERS_ALLOWED_GROUPS (with docker when USERS_ALLOW_DOCKER_GROUP=yes). */
  readonly allowedGroups: ReadonlySet<string>;
  readonly now: Date;
}

const FIELDS = ['sshPublicKeys', 'sudo', 'groups', 'expires'];
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const EXPIRES_ALLOWED = 'an RFC 3339 time such as 2026-12-31T23:59:59Z, with a real date';
const DAY_MS = 86_400_000;
/** Groups people ask for when they mean sudo. */
const SUDO_GROUPS = new Set(['sudo', 'wheel', 'admin']);

class EntryProblem extends Error {}

export function validateEntries(
  entries: readonly SourceEntry[],
  rules: ValidationRules,
): { users: DesiredUser[]; rejections: Rejection[] } {
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
  const problem = nameProblem(entry.name);
  if (problem) throw new EntryProblem(`user name ${problem}`);
  if ('error' in entry) throw new EntryProblem(entry.error);
  const document = entry.document;
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new EntryProblem(`is ${describe(document)}; allowed: an object with ${FIELDS.join(', ')}`);
  }
  const fields = document as Record<string, unknown>;
  const unknown = Object.keys(fields).find((field) => !FIELDS.includes(field));
  if (unknown !== undefined)
    throw new EntryProblem(`unknown field ${JSON.stringify(unknown)}; allowed: ${FIELDS.join(', ')}`);
  const keys = checkKeys(fields.sshPublicKeys);
  const sudo = checkSudo(fields.sudo);
  const groups = checkGroups(fields.groups, rules);
  const expires = checkExpires(fields.expires);
  const expiresMs = expires === null ? null : Date.parse(expires);
  const expired = expiresMs !== null && expiresMs <= rules.now.getTime();
  return {
    name: entry.name,
    keys: expired ? [] : keys,
    sudo: sudo && !expired,
    groups: expired ? [] : groups,
    expires,
    expireDay: expiresMs === null ? null : shadowDay(expiresMs),
    expired,
  };
}

/**
 * shadow counts account expiry in whole days: the account is refused from the start of that day (UTC). The day
 * chosen is the first midnight at or after `expires`, so PAM refuses the account at most a day late when the agent
 * is not running, never early; while the agent runs it removes the keys at the exact time. Day 0 means "no expiry"
 * to some tools, so 1 is the earliest.
 */
export function shadowDay(expiresMs: number): number {
  return Math.max(1, Math.ceil(expiresMs / DAY_MS));
}

function checkKeys(value: unknown): string[] {
  if (!Array.isArray(value)) {
    throw new EntryProblem(`sshPublicKeys is ${describe(value)}; allowed: an array of public key strings (required)`);
  }
  if (value.length > USERS.maxKeys)
    throw new EntryProblem(`sshPublicKeys has ${value.length} keys; allowed: at most ${USERS.maxKeys}`);
  const keys = value.map((key, index) => {
    if (typeof key !== 'string')
      throw new EntryProblem(`sshPublicKeys[${index}] is ${describe(key)}; allowed: a public key string`);
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
  if (value.length > USERS.maxGroups)
    throw new EntryProblem(`groups has ${value.length} entries; allowed: at most ${USERS.maxGroups}`);
  for (const [index, group] of value.entries()) {
    const problem = groupProblem(group, rules);
    if (problem) throw new EntryProblem(`groups[${index}] ${problem}`);
  }
  return [...new Set(value as string[])].sort();
}

function groupProblem(group: unknown, rules: ValidationRules): string | null {
  if (typeof group !== 'string' || !NAME_PATTERN.test(group))
    return `${describe(group)} is not a group name; allowed: ${NAME_ALLOWED}`;
  if (!rules.allowedGroups.has(group)) {
    const allowed =
      rules.allowedGroups.size === 0 ? 'none (USERS_ALLOWED_GROUPS is empty)' : [...rules.allowedGroups].join(', ');
    const hint = SUDO_GROUPS.has(group) ? '; use "sudo": true for sudo' : '';
    return `${JSON.stringify(group)} is not in USERS_ALLOWED_GROUPS; allowed: ${allowed}${hint}`;
  }
  if (!rules.existingGroups.has(group))
    return `${JSON.stringify(group)} does not exist on this host; allowed: existing groups`;
  return null;
}

function checkExpires(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || !isRealTime(value))
    throw new EntryProblem(`expires is ${describe(value)}; allowed: ${EXPIRES_ALLOWED}`);
  return value;
}

/** Date.parse rolls 2026-02-30 over to March 2nd: every field is checked against the calendar instead. */
function isRealTime(text: string): boolean {
  const match = RFC3339.exec(text);
  if (!match) return false;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const [offsetHours, offsetMinutes] = [Number(match[8] ?? 0), Number(match[9] ?? 0)];
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59 &&
    !Number.isNaN(Date.parse(text))
  );
}

/** A value for an error message: short, on one line, never a whole key. */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}

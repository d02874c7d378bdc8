import { isSecretKey } from '../../core/config/keys.ts';

/**
 * Reading and rewriting /etc/ecs/ecs.config line by line, so that what the
 * operator wrote by hand stays where it was. Managed keys are written strictly
 * as `KEY=value` (DESIGN.md §3: the one form systemd's EnvironmentFile=,
 * ecs-init and the agent all read alike); every other line is kept byte for byte.
 */

/** `KEY=` as ecs-init and systemd both read it: no leading space, no `export`, no space before `=`. */
const STRICT_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;
/** Any line some reader takes as setting KEY: with leading space, `export`, or spaces around `=`. */
const ANY_ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/** The key a line sets for at least one reader, or null (comments, blank or unreadable lines). */
export function assignedKey(line: string): string | null {
  return ANY_ASSIGNMENT.exec(line)?.[1] ?? null;
}

function strictKey(line: string): string | null {
  return STRICT_ASSIGNMENT.exec(line)?.[1] ?? null;
}

export function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

export interface Rewrite {
  /** The file as it is, '' when missing. */
  readonly existing: string;
  /** Keys the agent writes, with their values, in the order new ones are appended. */
  readonly managed: ReadonlyMap<string, string>;
  /** Keys the agent wrote on an earlier run and no longer manages: their lines go. */
  readonly released: ReadonlySet<string>;
}

/**
 * The new file text. A managed key takes the place of its first line in the
 * file (whatever form that line had) and its other lines go; a key not there
 * yet is appended. Of a hand-written key set several times in strict form,
 * only the last line stays: the one both readers use anyway.
 */
export function rewriteEcsConfig({ existing, managed, released }: Rewrite): string {
  const lines = splitLines(existing);
  const lastStrictLine = new Map(lines.map((line, index) => [strictKey(line), index] as const));
  const written = new Set<string>();
  const out: string[] = [];
  lines.forEach((line, index) => {
    const key = assignedKey(line);
    if (key !== null && managed.has(key)) {
      if (!written.has(key)) out.push(`${key}=${managed.get(key)}`);
      written.add(key);
      return;
    }
    if (key !== null && released.has(key)) return;
    const strict = strictKey(line);
    if (strict === null || lastStrictLine.get(strict) === index) out.push(line);
  });
  for (const [key, value] of managed) if (!written.has(key)) out.push(`${key}=${value}`);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/**
 * Why a hand-written line does not give the agent one value that systemd and
 * ecs-init agree on, or null when it does. The agent keeps such lines as they
 * are and warns.
 */
export function readersDisagree(line: string): string | null {
  if (/^\s*export\s/.test(line)) return 'starts with "export" (both readers then take "export KEY" as the name: the agent never sees the key)';
  if (/^\s*[A-Za-z_][A-Za-z0-9_]*\s+=/.test(line)) return 'has a space before "=" (ecs-init then reads a name ending in a space)';
  const value = line.slice(line.indexOf('=') + 1);
  if (/^\s*["']/.test(value)) return 'has a quoted value (systemd strips the quotes, ecs-init keeps them)';
  if (value.includes('\\')) return 'has a backslash (systemd drops it, ecs-init keeps it)';
  if (/^\s/.test(value)) return 'has a value starting with a space (systemd drops it, ecs-init keeps it)';
  return null;
}

/** True when any line sets the registry credentials, whoever wrote it: the file must then be 0600. */
export function holdsEngineAuthData(text: string): boolean {
  return splitLines(text).some((line) => assignedKey(line) === 'ECS_ENGINE_AUTH_DATA');
}

/** A line as `plan` may print it: the value of anything that looks like a secret is redacted. */
export function shownLine(line: string): string {
  const equals = line.indexOf('=');
  return equals > 0 && isSecretKey(line.slice(0, equals)) ? `${line.slice(0, equals)}=<redacted>` : line;
}

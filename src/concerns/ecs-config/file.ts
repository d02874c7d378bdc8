import { assignsSecret, isSecretKey, REDACTED, redactedLine } from '../../core/config/secrets.ts';
import { escapeControls, splitLines } from '../../core/config/text.ts';

/**
 * Reading and rewriting /etc/ecs/ecs.config line by line, so that what the
 * operator wrote by hand stays where it was. Managed keys are written strictly
 * as `KEY=value` (DESIGN.md §3: the one form systemd's EnvironmentFile=,
 * ecs-init and the agent all read alike); every other line is kept byte for byte.
 */

/** `KEY=` as ecs-init and systemd both read it: no leading space, no `export`, no space before `=`. */
const STRICT_ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=/;
/**
 * Any line some reader takes as setting KEY, or that was meant to: leading whitespace of
 * either reader (Go's TrimSpace strips Unicode spaces) or a BOM, `export`, spaces around `=`.
 */
const ANY_ASSIGNMENT = /^[\s\u0085\ufeff]*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/;

/** The key a line sets for at least one reader, or null (comments, blank or unreadable lines). */
export function assignedKey(line: string): string | null {
  return ANY_ASSIGNMENT.exec(line)?.[1] ?? null;
}

function strictKey(line: string): string | null {
  return STRICT_ASSIGNMENT.exec(line)?.[1] ?? null;
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
 * Where the managed lines go: in place (each at the first line of its key, new
 * keys appended), or all together before the kept line with this index (the
 * number of kept lines: at the end).
 */
export type Placement = { readonly kind: 'in-place' } | { readonly kind: 'block'; readonly before: number };

export const IN_PLACE: Placement = { kind: 'in-place' };

/**
 * The new file text. In place, a managed key takes the place of its first line
 * in the file (whatever form that line had) and its other lines go; a key not
 * there yet is appended. Of a hand-written key set several times in strict
 * form, only the last line stays: the one both readers use anyway. A managed
 * line never follows a line ending in "\": a blank line is put between, so
 * systemd cannot join the managed line onto it.
 */
export function rewriteEcsConfig(rewrite: Rewrite, placement: Placement = IN_PLACE): string {
  const out: string[] = [];
  const emitManaged = (key: string) => {
    if (out.at(-1)?.endsWith('\\')) out.push('');
    out.push(`${key}=${rewrite.managed.get(key)}`);
  };
  const kept = keptLines(rewrite);
  if (placement.kind === 'in-place') {
    for (const { line, key } of kept) {
      if (key === null) out.push(line);
      else emitManaged(key);
    }
    const written = new Set(kept.map(({ key }) => key));
    for (const key of rewrite.managed.keys()) if (!written.has(key)) emitManaged(key);
  } else {
    const handWritten = kept.filter(({ key }) => key === null);
    handWritten.forEach(({ line }, index) => {
      if (index === placement.before) for (const key of rewrite.managed.keys()) emitManaged(key);
      out.push(line);
    });
    if (placement.before >= handWritten.length) for (const key of rewrite.managed.keys()) emitManaged(key);
  }
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

/** The hand-written lines that stay, and the first line of each managed key where it stands. */
function keptLines({ existing, managed, released }: Rewrite): { line: string; key: string | null }[] {
  const lines = splitLines(existing);
  const lastStrictLine = new Map(lines.map((line, index) => [strictKey(line), index] as const));
  const seen = new Set<string>();
  const kept: { line: string; key: string | null }[] = [];
  lines.forEach((line, index) => {
    const key = assignedKey(line);
    if (key !== null && managed.has(key)) {
      if (!seen.has(key)) kept.push({ line, key });
      seen.add(key);
      return;
    }
    if (key !== null && released.has(key)) return;
    const strict = strictKey(line);
    if (strict === null || lastStrictLine.get(strict) === index) kept.push({ line, key: null });
  });
  return kept;
}

/** Every place a block of managed lines can go, the end first: before each kept hand-written line, or after them. */
export function blockPlacements(rewrite: Rewrite): Placement[] {
  const handWritten = keptLines(rewrite).filter(({ key }) => key === null).length;
  return Array.from({ length: handWritten + 1 }, (_, index) => ({ kind: 'block', before: handWritten - index }));
}

/**
 * Why a hand-written line does not give the agent one value that systemd and
 * ecs-init agree on, or null when it does: the explanation of a difference the
 * reader models show.
 */
export function readersDisagree(line: string): string | null {
  if (/^\s*export\s/.test(line))
    return 'starts with "export" (both readers then take "export KEY" as the name: the agent never sees the key)';
  if (/^\s*[A-Za-z_][A-Za-z0-9_]*\s+=/.test(line))
    return 'has a space before "=" (ecs-init then reads a name ending in a space)';
  const value = line.slice(line.indexOf('=') + 1);
  if (/^\s*["']/.test(value)) return 'has a quoted value (systemd strips the quotes, ecs-init keeps them)';
  if (value.includes('\\')) return 'has a backslash (systemd drops it, ecs-init keeps it)';
  if (/^\s/.test(value)) return 'has a value starting with a space (systemd drops it, ecs-init keeps it)';
  return null;
}

/** True when any line assigns a secret, whoever wrote it: the file must then be 0600. */
export function holdsSecrets(text: string): boolean {
  return splitLines(text).some((line) => assignsSecret(line));
}

/** A line as `plan` may print it: on one line, and the value of anything that looks like a secret redacted. */
export function shownLine(line: string): string {
  if (line === '') return '(an empty line)';
  const strict = strictKey(line);
  if (strict !== null && !isSecretKey(strict) && !assignsSecret(line.slice(strict.length + 1)))
    return escapeControls(line);
  return escapeControls(strict !== null && isSecretKey(strict) ? `${strict}=${REDACTED}` : redactedLine(line));
}

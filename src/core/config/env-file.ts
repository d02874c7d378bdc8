import { ConfigError } from '../errors.ts';
import { environmentTooLarge, variableTooLong } from './limits.ts';
import { redactedLine } from './secrets.ts';
import {
  characterName,
  decodeLossless,
  firstInvalidByte,
  invalidByteAt,
  isEdgeSpace,
  isNoncharacter,
  quoted,
} from './text.ts';

/**
 * The strict `KEY=value` format shared by agent.env and /etc/ecs/ecs.config.
 * A line is accepted only when systemd's EnvironmentFile= (every version the
 * agent models), dotenv and ecs-init would all read the same value from it;
 * anything they read differently (quotes, `export`, spaces around `=`, `#`,
 * backslashes, CR, control characters, Unicode spaces at the edges) is rejected
 * here rather than silently meaning different things to different readers.
 */
export interface EnvEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** The file's bytes as text; invalid UTF-8 is refused, naming the line and byte, never replaced. */
export function decodeEnvFile(bytes: Uint8Array, source: string): string {
  const text = decodeLossless(bytes);
  const invalid = firstInvalidByte(text);
  if (invalid === null) return text;
  const { line, column } = position(text, invalid.index);
  throw new ConfigError(
    `${source}:${line}: ${characterName(text, invalid.index)} at column ${column}: the file must be UTF-8`,
  );
}

function position(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  return { line: before.split('\n').length, column: index - before.lastIndexOf('\n') };
}

/**
 * Why a value cannot be written or read identically by every reader, or null
 * when it can: one rule for agent.env, the environment and flags.
 */
export function strictValueProblem(value: string): string | null {
  return edgeProblem(value) ?? characterProblem(value) ?? syntaxProblem(value);
}

/** The value problem, or that KEY=value is too long for execve. */
export function valueProblem(key: string, value: string): string | null {
  return strictValueProblem(value) ?? variableTooLong(key, value);
}

function edgeProblem(value: string): string | null {
  const last = value.length - 1;
  if (isEdgeSpace(value[0] ?? '')) return `starts with ${characterName(value, 0)} (${EDGE_RULE})`;
  if (isEdgeSpace(value[last] ?? '')) return `ends with ${characterName(value, last)} (${EDGE_RULE})`;
  return null;
}

const EDGE_RULE = "systemd or Go's strings.TrimSpace in ecs-init would strip it, so the readers would disagree";

/** Characters no reader passes on alike, or that make systemd drop a variable or the whole file. */
function characterProblem(value: string): string | null {
  for (let index = 0; index < value.length; index++) {
    const why = characterRule(value, index);
    if (why !== null) return `contains ${characterName(value, index)} at character ${index + 1}${why}`;
  }
  return null;
}

function characterRule(value: string, index: number): string | null {
  if (invalidByteAt(value, index) !== null) return ' (systemd refuses a file with invalid UTF-8 in a value)';
  const code = value.codePointAt(index) as number;
  if (code === 0xfffd) return ' (what is left where invalid UTF-8 was read: write the value as UTF-8)';
  if (code === 0x0a || code === 0x0d) return ': values are one line';
  if (code === 0x00) return ' (systemd refuses a file with a NUL)';
  if ((code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f))
    return ' (a control character: systemd before v248 drops the variable)';
  if (code === 0x2028 || code === 0x2029 || code === 0xfeff)
    return ' (an invisible separator: write the value without it)';
  if (isNoncharacter(code)) return ' (a Unicode noncharacter: systemd refuses it as invalid UTF-8)';
  return null;
}

function syntaxProblem(value: string): string | null {
  if (/^["'`]/.test(value)) return 'starts with a quote (readers disagree on quote stripping: write the value bare)';
  if (value.includes('\\')) return 'contains a backslash (systemd treats it as an escape)';
  if (value.includes('#')) return 'contains "#" (dotenv treats it as a comment)';
  return null;
}

export function parseStrictEnv(text: string, source: string): EnvEntry[] {
  if (text.startsWith('\ufeff')) {
    throw new ConfigError(
      `${source}:1: the file starts with a BOM (U+FEFF, byte order mark), which every reader takes as part of ` +
        'the first key; save it as UTF-8 without BOM',
    );
  }
  const entries: EnvEntry[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const entry = parseLine(raw, `${source}:${index + 1}`);
    if (entry === null) return;
    const earlier = seen.get(entry.key);
    if (earlier !== undefined)
      throw new ConfigError(
        `${source}:${index + 1}: ${entry.key} is already set on line ${earlier}; set each key once`,
      );
    seen.set(entry.key, index + 1);
    entries.push({ ...entry, line: index + 1 });
  });
  const tooLarge = environmentTooLarge(
    entries.map(({ key, value }) => [key, value] as const),
    source,
  );
  if (tooLarge) throw new ConfigError(`${source}: ${tooLarge}`);
  return entries;
}

/** The assignment on one line, null for a blank or comment line; a ConfigError for anything else. */
function parseLine(raw: string, where: string): { key: string; value: string } | null {
  const lineProblem = characterLineProblem(raw);
  if (lineProblem) throw new ConfigError(`${where}: ${shownLine(raw)} ${lineProblem}`);
  if (/^[ \t]*$/.test(raw)) return null;
  if (/^[ \t]*#/.test(raw)) {
    if (raw.endsWith('\\')) throw new ConfigError(`${where}: ${COMMENT_CONTINUES}`);
    return null;
  }
  const match = LINE.exec(raw);
  if (!match) throw new ConfigError(`${where}: ${shownLine(raw)} is not KEY=value${hint(raw)}`);
  const [, key, value] = match as unknown as [string, string, string];
  const problem = valueProblem(key, value);
  if (problem) throw new ConfigError(`${where}: value of ${key} ${problem}`);
  return { key, value };
}

const COMMENT_CONTINUES =
  'a comment ending in "\\": systemd before v254 ' +
  '(Amazon Linux 2023, Debian 11 and 12, Ubuntu 20.04 and 22.04, SLES 15 SP3 to SP5) ' +
  'continues it onto the next line, which the unit then never sees; remove the backslash';

const CR_INSIDE = 'systemd starts a new line there, other readers do not';

/** CR and NUL in any line, comments included: they change where systemd's lines begin, or make it drop the file. */
function characterLineProblem(raw: string): string | null {
  const cr = raw.indexOf('\r');
  if (cr >= 0 && cr === raw.length - 1)
    return 'ends with CR (carriage return): the file has Windows line endings; save it with LF line endings';
  if (cr >= 0) return `contains CR (carriage return) at character ${cr + 1}: ${CR_INSIDE}`;
  const nul = raw.indexOf('\0');
  if (nul >= 0) return `contains NUL at character ${nul + 1}: systemd refuses the whole file`;
  return null;
}

function shownLine(raw: string): string {
  return quoted(redactedLine(raw));
}

function hint(raw: string): string {
  if (/^\s*export\s/.test(raw)) return ' (drop "export")';
  if (/^[ \t]*[A-Za-z_][A-Za-z0-9_]*[ \t]+=/.test(raw)) return ' (no spaces around "=")';
  if (raw.startsWith(';'))
    return ' (systemd reads ";" lines as comments, other readers as keys: start comments with "#")';
  if (raw !== '' && (isEdgeSpace(raw[0] as string) || raw[0] === '\ufeff'))
    return ` (no leading ${characterName(raw, 0)})`;
  const equals = raw.indexOf('=');
  if (equals < 0) return ' (no "=")';
  if (equals === 0) return ' (no key before "=")';
  return ` (${keyCharacterProblem(raw.slice(0, equals))})`;
}

function keyCharacterProblem(key: string): string {
  const rule = 'keys are letters, digits and "_", not starting with a digit';
  if (/^\d/.test(key)) return `${rule}: this one starts with a digit`;
  return `${rule}: ${characterName(key, Math.max(key.search(/[^A-Za-z0-9_]/), 0))} is not allowed in a key`;
}

/**
 * Faithful ports of the two parsers that read /etc/ecs/ecs.config before the
 * ECS agent sees its environment: the agent checks with them that what it
 * writes means the same to both, `plan` and `doctor` report where a file's
 * readers disagree, and the integration tests hold the systemd port against a
 * booted systemd 252. Keep them literal: they are the oracle. Text is decoded
 * losslessly (core/config/text.ts): invalid bytes are lone surrogates.
 */
import { byteLength, characterName, invalidByteAt, isEdgeSpace, isNoncharacter } from '../../core/config/text.ts';

/**
 * systemd versions of the supported distributions, the rules of each taken from
 * systemd/systemd src/basic/env-file.c, env-util.c and fileio.c at that release.
 */
export const SYSTEMD_VERSIONS: readonly { readonly version: number; readonly systems: string }[] = [
  { version: 245, systems: 'Ubuntu 20.04' },
  { version: 246, systems: 'SLES 15 SP3' },
  { version: 247, systems: 'Debian 11' },
  { version: 249, systems: 'Ubuntu 22.04, SLES 15 SP4 and SP5' },
  { version: 252, systems: 'Amazon Linux 2023, Debian 12' },
  { version: 254, systems: 'SLES 15 SP6' },
  { version: 255, systems: 'Ubuntu 24.04' },
];

export const OLDEST_MODELLED = 245;

/** Where the versions differ, by the release that changed it. */
export interface SystemdRules {
  /** Before v254 a comment ending in "\" continues onto the next line (env-file.c, COMMENT_ESCAPE). */
  readonly commentsContinue: boolean;
  /** From v247 "\" in double quotes unescapes " \ ` $ and eats only LF; before, it unescaped only " and ate CR too. */
  readonly shellQuoteEscapes: boolean;
  /** From v248 values may hold control characters; before, env_value_is_valid dropped one with any but TAB and LF. */
  readonly controlsInValues: boolean;
}

export function systemdRules(version: number): SystemdRules {
  return { commentsContinue: version < 254, shellQuoteEscapes: version >= 247, controlsInValues: version >= 248 };
}

const WHITESPACE = ' \t\n\r';
const NEWLINE = '\n\r';
const COMMENTS = '#;';
const SHELL_NEED_ESCAPE = '"\\`$';
/** sysconf(_SC_ARG_MAX) with the default 8 MiB stack: env_value_is_valid refuses longer values. */
const ARG_MAX = 2_097_152;

type State =
  | 'PRE_KEY'
  | 'KEY'
  | 'PRE_VALUE'
  | 'VALUE'
  | 'VALUE_ESCAPE'
  | 'SINGLE_QUOTE_VALUE'
  | 'DOUBLE_QUOTE_VALUE'
  | 'DOUBLE_QUOTE_VALUE_ESCAPE'
  | 'COMMENT'
  | 'COMMENT_ESCAPE';

/** One assignment systemd's parser pushed, with the lines (1-based, split at LF) it spans. */
export interface SystemdAssignment {
  readonly key: string;
  readonly value: string;
  readonly firstLine: number;
  readonly lastLine: number;
}

export interface SystemdReading {
  /** What a unit with EnvironmentFile=-FILE gets; empty when systemd refuses the file. */
  readonly variables: ReadonlyMap<string, string>;
  /** What makes systemd refuse the whole file (with the "-" prefix, silently), and on which line; or null. */
  readonly refused: { readonly line: number; readonly what: string } | null;
  /** Every assignment the parser made, in order, before invalid ones are dropped. */
  readonly assignments: readonly SystemdAssignment[];
  /** Assignments dropped as invalid (a name that is not a variable name, a value env_value_is_valid refuses). */
  readonly dropped: readonly (SystemdAssignment & { readonly why: string })[];
  /** The parser's state at the start of each line: anything but PRE_KEY means an earlier line runs on into it. */
  readonly lineStarts: readonly LineStart[];
}

/** How a line begins for systemd: on its own, or inside a construct begun on an earlier line. */
export type LineStart =
  | { readonly kind: 'own' }
  | { readonly kind: 'comment' | 'escaped-newline' | 'single-quote' | 'double-quote'; readonly from: number };

/**
 * systemd's EnvironmentFile= reader: read_full_file (which refuses a file with a NUL
 * when no size is asked for), the state machine of parse_env_file_internal, the UTF-8
 * check of load_env_file_push (invalid UTF-8 in a key or value fails the whole file),
 * where a later assignment replaces an earlier one, then strv_env_clean_with_callback
 * in exec_context_load_environment, which drops invalid assignments.
 */
export function readAsSystemd(text: string, version: number): SystemdReading {
  const rules = systemdRules(version);
  const nul = text.indexOf('\0');
  if (nul >= 0) return refusedReading({ line: lineOf(text, nul), what: 'NUL byte' }, text);
  const parsed = parseEnvFile(text, rules);
  for (const assignment of parsed.assignments) {
    const invalid = invalidUtf8(assignment.key) ?? invalidUtf8(assignment.value);
    if (invalid !== null)
      return {
        ...refusedReading(
          { line: assignment.firstLine, what: `${invalid} in ${assignment.key === '' ? 'a key' : 'an assignment'}` },
          text,
        ),
        ...parsed,
      };
  }
  const variables = new Map<string, string>();
  const dropped: (SystemdAssignment & { why: string })[] = [];
  for (const assignment of parsed.assignments) variables.set(assignment.key, assignment.value);
  for (const assignment of parsed.assignments) {
    const why = invalidAssignment(assignment, rules);
    if (why === null) continue;
    dropped.push({ ...assignment, why });
    if (variables.get(assignment.key) === assignment.value) variables.delete(assignment.key);
  }
  return { variables, refused: null, dropped, ...parsed };
}

function refusedReading(refused: { line: number; what: string }, text: string): SystemdReading {
  return {
    variables: new Map(),
    refused,
    assignments: [],
    dropped: [],
    lineStarts: text.split('\n').map(() => ({ kind: 'own' })),
  };
}

/** env_name_is_valid and env_value_is_valid (in env_assignment_is_valid). */
function invalidAssignment(assignment: SystemdAssignment, rules: SystemdRules): string | null {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(assignment.key))
    return 'not a variable name (letters, digits and "_", not starting with a digit)';
  if (!rules.controlsInValues && /[\u0000-\u0008\u000b-\u001f\u007f]/.test(assignment.value))
    return 'a control character in the value';
  if (byteLength(assignment.value) > ARG_MAX - 3) return 'a value longer than ARG_MAX';
  return null;
}

/** What utf8_is_valid refuses, named, or null: invalid bytes, and noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF). */
function invalidUtf8(text: string): string | null {
  for (let index = 0; index < text.length; index++) {
    if (invalidByteAt(text, index) !== null || isNoncharacter(text.codePointAt(index) as number))
      return characterName(text, index);
  }
  return null;
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

interface Parsed {
  readonly assignments: SystemdAssignment[];
  readonly lineStarts: LineStart[];
}

/** parse_env_file_internal, character by character; `null` stands for SIZE_MAX ("no trailing whitespace seen"). */
function parseEnvFile(text: string, rules: SystemdRules): Parsed {
  const assignments: SystemdAssignment[] = [];
  const lineStarts: LineStart[] = [{ kind: 'own' }];
  let state: State = 'PRE_KEY';
  let key = '';
  let value: string | null = null;
  let lastKeyWhitespace: number | null = null;
  let lastValueWhitespace: number | null = null;
  let line = 1;
  let keyLine = 1;
  let constructLine = 1;

  const push = (chompValue: boolean) => {
    let pushed = value ?? '';
    if (chompValue && lastValueWhitespace !== null) pushed = pushed.slice(0, lastValueWhitespace);
    const name = lastKeyWhitespace !== null ? key.slice(0, lastKeyWhitespace) : key;
    assignments.push({ key: name, value: pushed, firstLine: keyLine, lastLine: line });
    key = '';
    value = null;
  };
  const append = (c: string) => {
    value = (value ?? '') + c;
  };

  for (const c of text) {
    switch (state) {
      case 'PRE_KEY':
        if (COMMENTS.includes(c)) {
          state = 'COMMENT';
          constructLine = line;
        } else if (!WHITESPACE.includes(c)) {
          state = 'KEY';
          lastKeyWhitespace = null;
          key += c;
          keyLine = line;
        }
        break;
      case 'KEY':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          key = '';
        } else if (c === '=') {
          state = 'PRE_VALUE';
          lastValueWhitespace = null;
        } else {
          if (!WHITESPACE.includes(c)) lastKeyWhitespace = null;
          else if (lastKeyWhitespace === null) lastKeyWhitespace = key.length;
          key += c;
        }
        break;
      case 'PRE_VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(false);
        } else if (c === "'") {
          state = 'SINGLE_QUOTE_VALUE';
          constructLine = line;
        } else if (c === '"') {
          state = 'DOUBLE_QUOTE_VALUE';
          constructLine = line;
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE';
          constructLine = line;
        } else if (!WHITESPACE.includes(c)) {
          state = 'VALUE';
          append(c);
        }
        break;
      case 'VALUE':
        if (NEWLINE.includes(c)) {
          state = 'PRE_KEY';
          push(true);
        } else if (c === '\\') {
          state = 'VALUE_ESCAPE';
          lastValueWhitespace = null;
          constructLine = line;
        } else {
          if (!WHITESPACE.includes(c)) lastValueWhitespace = null;
          else if (lastValueWhitespace === null) lastValueWhitespace = (value ?? '').length;
          append(c);
        }
        break;
      case 'VALUE_ESCAPE':
        state = 'VALUE';
        if (!NEWLINE.includes(c)) append(c); // escaped newlines are eaten up entirely
        break;
      case 'SINGLE_QUOTE_VALUE':
        if (c === "'") state = 'PRE_VALUE';
        else append(c);
        break;
      case 'DOUBLE_QUOTE_VALUE':
        if (c === '"') state = 'PRE_VALUE';
        else if (c === '\\') state = 'DOUBLE_QUOTE_VALUE_ESCAPE';
        else append(c);
        break;
      case 'DOUBLE_QUOTE_VALUE_ESCAPE':
        state = 'DOUBLE_QUOTE_VALUE';
        if (rules.shellQuoteEscapes) {
          if (SHELL_NEED_ESCAPE.includes(c)) append(c);
          else if (c !== '\n') append(`\\${c}`);
        } else if (c === '"') append(c);
        else if (!NEWLINE.includes(c)) append(`\\${c}`);
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (NEWLINE.includes(c)) state = 'PRE_KEY';
        break;
      case 'COMMENT_ESCAPE':
        state = !rules.commentsContinue && NEWLINE.includes(c) ? 'PRE_KEY' : 'COMMENT';
        break;
    }
    if (c === '\n') {
      line++;
      lineStarts.push(lineStart(state, constructLine));
    }
  }
  const unfinished: readonly State[] = [
    'PRE_VALUE',
    'VALUE',
    'VALUE_ESCAPE',
    'SINGLE_QUOTE_VALUE',
    'DOUBLE_QUOTE_VALUE',
    'DOUBLE_QUOTE_VALUE_ESCAPE',
  ];
  if (unfinished.includes(state)) push(state === 'VALUE');
  return { assignments, lineStarts };
}

function lineStart(state: State, from: number): LineStart {
  switch (state) {
    case 'COMMENT':
    case 'COMMENT_ESCAPE':
      return { kind: 'comment', from };
    case 'VALUE':
    case 'VALUE_ESCAPE':
      return { kind: 'escaped-newline', from };
    case 'SINGLE_QUOTE_VALUE':
      return { kind: 'single-quote', from };
    case 'DOUBLE_QUOTE_VALUE':
    case 'DOUBLE_QUOTE_VALUE_ESCAPE':
      return { kind: 'double-quote', from };
    default:
      return { kind: 'own' };
  }
}

/** Go's strings.TrimSpace: unicode.IsSpace, the Latin-1 spaces and the Unicode White_Space property (isEdgeSpace). */
function goTrimSpace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isEdgeSpace(text[start] as string)) start++;
  while (end > start && isEdgeSpace(text[end - 1] as string)) end--;
  return text.slice(start, end);
}

/**
 * ecs-init's reader: getEnvVars in aws/amazon-ecs-agent ecs-init/docker/docker.go.
 * The file is trimmed and split at "\n"; each line is trimmed and split at its
 * first "="; a line without "=" is skipped; nothing else: no comments, no
 * quote stripping, and the last assignment of a key wins. Go strings hold the
 * bytes as they are, so invalid UTF-8 passes through.
 */
export function readAsEcsInit(text: string): Map<string, string> {
  const result = new Map<string, string>();
  for (const line of goTrimSpace(text).split('\n')) {
    const trimmed = goTrimSpace(line);
    const equals = trimmed.indexOf('=');
    if (equals < 0) continue;
    result.set(trimmed.slice(0, equals), trimmed.slice(equals + 1));
  }
  return result;
}

/** The systemd reading as a plain object, for tests and callers that compare whole readings. */
export function parseSystemdEnvironmentFile(text: string, version = 255): Record<string, string> {
  return Object.fromEntries(readAsSystemd(text, version).variables);
}

export function parseEcsInitEnvFile(text: string): Record<string, string> {
  return Object.fromEntries(readAsEcsInit(text));
}

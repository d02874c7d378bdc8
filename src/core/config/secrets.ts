import { byteLength, quoted } from './text.ts';

/**
 * Which values are secrets, by the name they are stored under: a name is secret
 * when it contains TOKEN, PASSWORD, PASSWD, SECRET, CREDENTIAL, AUTH, APIKEY or
 * PRIVATE, or has KEY, KEYS, PASS, PWD or CREDS as one of its "_"-separated words
 * (any case: ECS_ENGINE_AUTH_DATA, ECS_API_KEY, ECS_DB_PASSWORD, db_passwd). The
 * agent's own keys that only name a file or a choice are not secret. Secret values
 * are shown as <redacted> in plan, --json, logs and errors, whatever the form of
 * the line that holds them.
 */
const SECRET_PARTS = ['TOKEN', 'PASSWORD', 'PASSWD', 'SECRET', 'CREDENTIAL', 'AUTH', 'APIKEY', 'PRIVATE'];
const SECRET_WORDS = ['KEY', 'KEYS', 'PASS', 'PWD', 'CREDS'];
/** Named like secrets, holding none: a path, a choice of format. */
const NOT_SECRET = [
  'CONTROL_TOKEN_FILE',
  'ECSINIT_SIGNING_KEY',
  'ECS_ENGINE_AUTH_TYPE',
  'METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE',
  'METRICS_REMOTE_WRITE_BASIC_AUTH_FILE',
];

export const REDACTED = '<redacted>';

export function isSecretKey(name: string): boolean {
  const upper = name.toUpperCase();
  if (NOT_SECRET.includes(upper)) return false;
  return (
    SECRET_PARTS.some((part) => upper.includes(part)) ||
    upper.split(/[^A-Z0-9]+/).some((word) => SECRET_WORDS.includes(word))
  );
}

/** A name followed by "=", or a quoted name followed by ":" (JSON): anything that assigns a value to a name. */
const ASSIGNMENT = /(?<![A-Za-z0-9_])([A-Za-z0-9_]+)(?:\s*=|["']\s*:)/g;

/** True when the text assigns something to a secret name anywhere: `export K=v`, `K = v`, `{"password":"v"}`. */
export function assignsSecret(text: string): boolean {
  return [...text.matchAll(ASSIGNMENT)].some(([, name]) => isSecretKey(name as string));
}

/** A value quoted for a message (a long one cut short), or <redacted> when its name is secret or it holds a secret. */
export function shownValue(name: string, value: string): string {
  if (isSecretKey(name) || assignsSecret(value)) return REDACTED;
  if (value.length <= SHOWN_LENGTH) return quoted(value);
  const cut = /[\ud800-\udbff]/.test(value[SHOWN_LENGTH - 1] as string) ? SHOWN_LENGTH - 1 : SHOWN_LENGTH;
  return `${quoted(`${value.slice(0, cut)}…`)} (${byteLength(value).toLocaleString('en-US')} bytes)`;
}

const SHOWN_LENGTH = 200;

/**
 * A line of an env file as a message may show it (not quoted, controls left to
 * the caller): everything after the first "=" is redacted when any name in the
 * line is secret. A line that does not start like an assignment may be a piece
 * of a value (a JSON object split over lines): a secret anywhere redacts all of it.
 */
export function redactedLine(line: string): string {
  const assignment = STARTS_LIKE_ASSIGNMENT.exec(line);
  if (assignment) return assignsSecret(line) ? `${assignment[0]}${REDACTED}` : line;
  return assignsSecret(line) || mentionsSecretWord(line) ? REDACTED : line;
}

const STARTS_LIKE_ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/;

function mentionsSecretWord(line: string): boolean {
  const upper = line.toUpperCase();
  return SECRET_PARTS.some((part) => upper.includes(part));
}

/**
 * The last line of defence, for log records: the value after every secret name
 * and "=" (or a quoted name and ":") is replaced: a quoted string to its closing
 * quote, a JSON object or array to its closing bracket, anything else up to the
 * next space, "," or ";". Messages are built redacted; this catches what slipped.
 * The placeholder of messages that explain a format ("is not KEY=value") stays.
 */
const PLACEHOLDER = 'value';
const NAME_AND_SEPARATOR = /(?<![A-Za-z0-9_])([A-Za-z0-9_]+)(["']?)(\s*[=:]\s*)/g;

export function redactSecrets(text: string): string {
  let out = '';
  let done = 0;
  for (const match of text.matchAll(NAME_AND_SEPARATOR)) {
    const [whole, name, quote, separator] = match as unknown as [string, string, string, string];
    if (match.index < done || !isSecretKey(name) || (separator.trim() === ':' && quote === '')) continue;
    const start = match.index + whole.length;
    const end = valueEnd(text, start);
    const value = text.slice(start, end);
    if (value.startsWith(REDACTED) || value === PLACEHOLDER || end === start) continue;
    out += `${text.slice(done, start)}${REDACTED}`;
    done = end;
  }
  return out + text.slice(done);
}

function valueEnd(text: string, start: number): number {
  const first = text[start];
  if (first === '"' || first === "'") return closingQuote(text, start) + 1;
  if (first === '{' || first === '[') return closingBracket(text, start) + 1;
  const stop = text.slice(start).search(/[\s,;]/);
  return stop < 0 ? text.length : start + stop;
}

function closingQuote(text: string, start: number): number {
  const quote = text[start];
  for (let index = start + 1; index < text.length; index++) {
    if (text[index] === '\\') index++;
    else if (text[index] === quote) return index;
  }
  return text.length - 1;
}

function closingBracket(text: string, start: number): number {
  let depth = 0;
  for (let index = start; index < text.length; index++) {
    const character = text[index];
    if (character === '"') index = closingQuote(text, index);
    else if (character === '{' || character === '[') depth++;
    else if ((character === '}' || character === ']') && --depth === 0) return index;
  }
  return text.length - 1;
}

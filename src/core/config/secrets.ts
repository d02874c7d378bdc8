import { quoted } from './text.ts';

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
const NOT_SECRET = ['CONTROL_TOKEN_FILE', 'ECSINIT_SIGNING_KEY', 'ECS_ENGINE_AUTH_TYPE'];

export const REDACTED = '<redacted>';

export function isSecretKey(name: string): boolean {
  const upper = name.toUpperCase();
  if (NOT_SECRET.includes(upper)) return false;
  return SECRET_PARTS.some((part) => upper.includes(part)) || upper.split(/[^A-Z0-9]+/).some((word) => SECRET_WORDS.includes(word));
}

/** A name followed by "=", or a quoted name followed by ":" (JSON): anything that assigns a value to a name. */
const ASSIGNMENT = /([A-Za-z0-9_]+)(?:\s*=|["']\s*:)/g;

/** True when the text assigns something to a secret name anywhere: `export K=v`, `K = v`, `{"password":"v"}`. */
export function assignsSecret(text: string): boolean {
  return [...text.matchAll(ASSIGNMENT)].some(([, name]) => isSecretKey(name as string));
}

/** A value quoted for a message, or <redacted> when its name is secret or it holds a secret itself. */
export function shownValue(name: string, value: string): string {
  return isSecretKey(name) || assignsSecret(value) ? REDACTED : quoted(value);
}

/**
 * A line of an env file as a message may show it (not quoted, controls left to
 * the caller): everything after the first "=" is redacted when any name in the
 * line is secret. A line that does not start like an assignment may be a piece
 * of a value (a JSON object split over lines): a secret word anywhere redacts it.
 */
export function redactedLine(line: string): string {
  const secret = assignsSecret(line) || (!STARTS_LIKE_ASSIGNMENT.test(line) && mentionsSecretWord(line));
  if (!secret) return line;
  const equals = line.indexOf('=');
  return equals < 0 ? REDACTED : `${line.slice(0, equals + 1)}${REDACTED}`;
}

const STARTS_LIKE_ASSIGNMENT = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=/;

function mentionsSecretWord(line: string): boolean {
  const upper = line.toUpperCase();
  return SECRET_PARTS.some((part) => upper.includes(part));
}

/**
 * The last line of defence, for log records: the value after every secret name
 * and "=" or ":" is replaced, up to the end of a quoted string, or else up to
 * the next space. Messages are built redacted; this catches what slipped.
 */
const SECRET_VALUE = /([A-Za-z0-9_]+)(["']?)(\s*[=:]\s*)("(?:[^"\\]|\\.)*"?|'[^']*'?|\{.*|\[.*|[^\s,;]+)/g;

export function redactSecrets(text: string): string {
  return text.replace(SECRET_VALUE, (match, name: string, quote: string, separator: string) => {
    if (!isSecretKey(name) || (separator.trim() === ':' && quote === '') || match.endsWith(REDACTED)) return match;
    return `${name}${quote}${separator}${REDACTED}`;
  });
}

/**
 * Faithful ports of the two parsers that read /etc/ecs/ecs.config before the
 * ECS agent sees its environment: tests show with them that what the agent
 * writes means the same to both, and `doctor` compares how both read the
 * file on a host. Keep them literal: they are the oracle.
 */

const WHITESPACE = ' \t\n\r';
const NEWLINE = '\n\r';
const COMMENTS = '#;';
const SHELL_NEED_ESCAPE = '"\\`$';

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

/**
 * systemd's EnvironmentFile= reader: the state machine of parse_env_file_internal
 * in systemd/systemd src/basic/env-file.c (with the constants of string-util.h
 * and escape.h), pushing through load_env_file_push, where a later assignment
 * replaces an earlier one. `null` for SIZE_MAX ("no trailing whitespace seen").
 */
export function parseSystemdEnvironmentFile(text: string): Record<string, string> {
  const result = new Map<string, string>();
  let state: State = 'PRE_KEY';
  let key = '';
  let value: string | null = null;
  let lastKeyWhitespace: number | null = null;
  let lastValueWhitespace: number | null = null;

  const push = (chompValue: boolean) => {
    let pushed = value ?? '';
    if (chompValue && lastValueWhitespace !== null) pushed = pushed.slice(0, lastValueWhitespace);
    result.set(lastKeyWhitespace !== null ? key.slice(0, lastKeyWhitespace) : key, pushed);
    key = '';
    value = null;
  };
  const append = (c: string) => {
    value = (value ?? '') + c;
  };

  // C walks the buffer up to its first NUL; nothing after one is read.
  for (const c of text.split('\0')[0] as string) {
    switch (state) {
      case 'PRE_KEY':
        if (COMMENTS.includes(c)) state = 'COMMENT';
        else if (!WHITESPACE.includes(c)) {
          state = 'KEY';
          lastKeyWhitespace = null;
          key += c;
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
        } else if (c === "'") state = 'SINGLE_QUOTE_VALUE';
        else if (c === '"') state = 'DOUBLE_QUOTE_VALUE';
        else if (c === '\\') state = 'VALUE_ESCAPE';
        else if (!WHITESPACE.includes(c)) {
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
        if (SHELL_NEED_ESCAPE.includes(c)) append(c);
        else if (c !== '\n') append(`\\${c}`);
        break;
      case 'COMMENT':
        if (c === '\\') state = 'COMMENT_ESCAPE';
        else if (NEWLINE.includes(c)) state = 'PRE_KEY';
        break;
      case 'COMMENT_ESCAPE':
        state = NEWLINE.includes(c) ? 'PRE_KEY' : 'COMMENT';
        break;
    }
  }
  const unfinished: readonly State[] = ['PRE_VALUE', 'VALUE', 'VALUE_ESCAPE', 'SINGLE_QUOTE_VALUE', 'DOUBLE_QUOTE_VALUE', 'DOUBLE_QUOTE_VALUE_ESCAPE'];
  if (unfinished.includes(state)) push(state === 'VALUE');
  return Object.fromEntries(result);
}

/** Go's unicode.IsSpace: Latin-1 spaces plus the Unicode White_Space property, which strings.TrimSpace strips. */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const GO_TRIM = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

function goTrimSpace(text: string): string {
  return text.replace(GO_TRIM, '');
}

/**
 * ecs-init's reader: getEnvVars in aws/amazon-ecs-agent ecs-init/docker/docker.go.
 * The file is trimmed and split at "\n"; each line is trimmed and split at its
 * first "="; a line without "=" is skipped; nothing else: no comments, no
 * quote stripping, and the last assignment of a key wins.
 */
export function parseEcsInitEnvFile(text: string): Record<string, string> {
  const result = new Map<string, string>();
  for (const line of goTrimSpace(text).split('\n')) {
    const trimmed = goTrimSpace(line);
    const equals = trimmed.indexOf('=');
    if (equals < 0) continue;
    result.set(trimmed.slice(0, equals), trimmed.slice(equals + 1));
  }
  return Object.fromEntries(result);
}

import { isSecretKey, REDACTED, redactSecrets } from './config/secrets.ts';
import { escapeControls } from './config/text.ts';

/**
 * One logger, always on stderr: stdout carries only data, so
 * `ecs-host-agent detect --json | jq` works whatever is logged.
 * Under journald ($JOURNAL_STREAM) each record is one JSON line with a `<N>`
 * syslog priority prefix, which journald turns into the entry's priority.
 * Every record is one line, control characters escaped, and secrets redacted:
 * fields named like secrets (see config/secrets.ts) and any value assigned to
 * a secret name inside a message.
 *
 * Written here rather than with winston: a level check and one line to one
 * stream is all the agent logs, and winston's 160 KB of code (readable-stream,
 * logform, colors) cost `detect` 21 ms of its 118 ms of CPU (docs/benchmarks.md).
 */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Logger {
  error(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  debug(message: string, fields?: Record<string, unknown>): void;
}

const SYSLOG_PRIORITY: Record<LogLevel, number> = { error: 3, warn: 4, info: 6, debug: 7 };
const LEVEL_ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** The process's logger: its level can change while it runs (the daemon's reload of LOG_LEVEL). */
export interface RootLogger extends Logger {
  setLevel(level: LogLevel): void;
}

export interface LoggerOptions {
  readonly level: LogLevel;
  readonly journald: boolean;
  /** Where the lines go (default process.stderr): only `write` is called. */
  readonly stream?: { write(line: string): unknown };
}

export function createLogger(options: LoggerOptions): RootLogger {
  const stream = options.stream ?? process.stderr;
  const format = options.journald ? journaldLine : textLine;
  let threshold = LEVEL_ORDER[options.level];
  const record =
    (level: LogLevel) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (LEVEL_ORDER[level] <= threshold) stream.write(`${format(level, cleanText(message), cleanFields(fields))}\n`);
    };
  return {
    error: record('error'),
    warn: record('warn'),
    info: record('info'),
    debug: record('debug'),
    setLevel: (level) => void (threshold = LEVEL_ORDER[level]),
  };
}

/** One JSON object with the `<N>` syslog priority prefix journald turns into the entry's priority. */
function journaldLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  return `<${SYSLOG_PRIORITY[level]}>${JSON.stringify({ level, message, ...fields })}`;
}

function textLine(level: LogLevel, message: string, fields: Record<string, unknown>): string {
  const extra = Object.entries(fields)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${level}: ${message}${extra ? ` (${extra})` : ''}`;
}

function cleanFields(fields: Record<string, unknown>): Record<string, unknown> {
  return cleanValue(fields) as Record<string, unknown>;
}

function cleanText(text: string): string {
  return escapeControls(redactSecrets(text));
}

function cleanValue(value: unknown): unknown {
  if (typeof value === 'string') return cleanText(value);
  if (Array.isArray(value)) return value.map(cleanValue);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, isSecretKey(key) ? REDACTED : cleanValue(inner)]);
  return Object.fromEntries(entries);
}

/** For code paths and tests that must not log. */
export const silentLogger: Logger = { error() {}, warn() {}, info() {}, debug() {} };

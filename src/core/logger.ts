import winston from 'winston';

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
  readonly stream?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): RootLogger {
  const format = options.journald ? journaldFormat() : textFormat();
  const logger = winston.createLogger({
    levels: LEVEL_ORDER,
    level: options.level,
    format,
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
  return {
    error: (message, fields) => void logger.error(message, fields),
    warn: (message, fields) => void logger.warn(message, fields),
    info: (message, fields) => void logger.info(message, fields),
    debug: (message, fields) => void logger.debug(message, fields),
    setLevel: (level) => void (logger.level = level),
  };
}

function journaldFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, fields } = cleaned(info);
    const priority = SYSLOG_PRIORITY[level as LogLevel] ?? 6;
    return `<${priority}>${JSON.stringify({ level, message, ...fields })}`;
  });
}

function textFormat(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, fields } = cleaned(info);
    const extra = Object.entries(fields)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
      .join(' ');
    return `${level}: ${String(message)}${extra ? ` (${extra})` : ''}`;
  });
}

interface CleanRecord {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

function cleaned(info: winston.Logform.TransformableInfo): CleanRecord {
  const { level, message, ...fields } = info;
  return { level, message: cleanText(String(message)), fields: cleanValue(fields) as Record<string, unknown> };
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

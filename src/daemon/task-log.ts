import type { Logger } from '../core/logger.ts';
import type { TaskRecord } from './scheduler.ts';

/**
 * What the journal gets from task results: news, not the steady state.
 * - A success is logged (info) when its summary differs from the last one, or
 *   when it ends a run of failures; the same summary again goes to debug
 *   ("no spot interruption announced" every 5 s is no news).
 * - A failure is logged (error) when it starts a run of failures or says
 *   something new, with when the next attempt is; the same failure again is
 *   repeated (warn) at most every REMINDER_MS, otherwise debug.
 */
export const REMINDER_MS = 6 * 60 * 60_000;

interface Memory {
  lastSummary: string | null;
  failure: string | null;
  failingSince: string | null;
  remindedAt: number;
}

export type TaskLog = (record: TaskRecord, nowMs: number) => void;

export function createTaskLog(logger: Logger): TaskLog {
  const memories = new Map<string, Memory>();
  return (record, nowMs) => {
    let memory = memories.get(record.name);
    if (memory === undefined)
      memories.set(record.name, (memory = { lastSummary: null, failure: null, failingSince: null, remindedAt: 0 }));
    if (record.result === 'failed') logFailure(logger, record, memory, nowMs);
    else if (record.result === 'stopped') logger.info(`${record.name}: stopped part-way: ${record.summary}`);
    else logSuccess(logger, record, memory);
  };
}

function logSuccess(logger: Logger, record: TaskRecord, memory: Memory): void {
  const fields = { durationMs: record.durationMs, nextRunAt: record.nextRunAt };
  if (memory.failure !== null) {
    logger.info(`${record.name}: ${record.summary} (recovered; failing since ${memory.failingSince})`, fields);
  } else if (record.summary !== memory.lastSummary) {
    logger.info(`${record.name}: ${record.summary}`, fields);
  } else {
    logger.debug(`${record.name}: ${record.summary}`, fields);
  }
  memory.lastSummary = record.summary;
  memory.failure = null;
  memory.failingSince = null;
}

function logFailure(logger: Logger, record: TaskRecord, memory: Memory, nowMs: number): void {
  const message = record.brief ?? record.summary;
  const next = `next attempt in ${describeDelay(Date.parse(record.nextRunAt) - nowMs)} (${record.nextRunAt})`;
  const fields = {
    durationMs: record.durationMs,
    consecutiveFailures: record.consecutiveFailures,
    nextRunAt: record.nextRunAt,
  };
  if (message !== memory.failure) {
    logger.error(`${record.name} failed (attempt ${record.consecutiveFailures}): ${message}; ${next}`, fields);
    memory.remindedAt = nowMs;
  } else if (nowMs - memory.remindedAt >= REMINDER_MS) {
    const since = `since ${memory.failingSince} (${record.consecutiveFailures} attempts)`;
    logger.warn(`${record.name} still failing ${since}: ${message}; ${next}`, fields);
    memory.remindedAt = nowMs;
  } else {
    logger.debug(`${record.name} failed again: ${message}; ${next}`, fields);
  }
  memory.failingSince ??= record.startedAt;
  memory.failure = message;
}

/** "30 s", "4 min", "1 h 30 min". */
export function describeDelay(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h${minutes % 60 === 0 ? '' : ` ${minutes % 60} min`}`;
}

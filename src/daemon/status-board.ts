import { redactSecrets } from '../core/config/secrets.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { ReloadRecord } from './reload.ts';
import type { Clock, TaskRecord } from './scheduler.ts';
import { type DaemonStatus, type RunningTask, writeStatus } from './status-file.ts';

/**
 * The daemon's status as it changes (a task starts, logs a step, finishes; the
 * daemon stops), written to status.json in order, one write at a time. A write
 * that fails is logged and the daemon goes on: status is for the operator,
 * never a reason to stop the work.
 */
export interface StatusBoard {
  current(): DaemonStatus;
  setState(state: DaemonStatus['state']): Promise<void>;
  started(task: string, startedAt: string): Promise<void>;
  finished(record: TaskRecord): Promise<void>;
  /** A reload gave the task a new next run. */
  rescheduled(task: string, nextRunAt: string): Promise<void>;
  /** A reload turned the task off: its last result is no longer shown. */
  removed(task: string): Promise<void>;
  reloaded(record: ReloadRecord): Promise<void>;
  /** The task's logger: logs as `logger` does, and what it logs at info or above becomes the running task's step. */
  loggerFor(task: string, logger: Logger): Logger;
}

const MAX_STEP_LENGTH = 500;

export function createStatusBoard(host: Host, pid: number, clock: Clock, logger: Logger): StatusBoard {
  const startedAt = new Date(clock.now()).toISOString();
  let status: DaemonStatus = { pid, startedAt, updatedAt: startedAt, state: 'running', tasks: {}, current: {} };
  let writes = Promise.resolve();
  const save = (change: (previous: DaemonStatus) => DaemonStatus): Promise<void> => {
    status = { ...change(status), updatedAt: new Date(clock.now()).toISOString() };
    const snapshot = status;
    writes = writes
      .then(() => writeStatus(host, snapshot))
      .catch((error: unknown) => logger.warn(`status not written: ${messageOf(error)}`));
    return writes;
  };
  const setRunning = (task: string, run: RunningTask) =>
    save((previous) => ({ ...previous, current: { ...previous.current, [task]: run } }));
  const step = (task: string, message: string) => {
    const run = status.current?.[task];
    if (run !== undefined) void setRunning(task, { ...run, step: redactSecrets(message).slice(0, MAX_STEP_LENGTH) });
  };
  return {
    current: () => status,
    setState: (state) => save((previous) => ({ ...previous, state })),
    started: (task, at) => setRunning(task, { startedAt: at, step: null }),
    finished: (record) =>
      save((previous) => ({
        ...previous,
        tasks: { ...previous.tasks, [record.name]: record },
        current: withoutKey(previous.current ?? {}, record.name),
      })),
    rescheduled: (task, nextRunAt) =>
      save((previous) => {
        const record = previous.tasks[task];
        return record ? { ...previous, tasks: { ...previous.tasks, [task]: { ...record, nextRunAt } } } : previous;
      }),
    removed: (task) => save((previous) => ({ ...previous, tasks: withoutKey(previous.tasks, task) })),
    reloaded: (reload) => save((previous) => ({ ...previous, reload })),
    loggerFor: (task, base) => ({
      error: (message, fields) => (base.error(message, fields), step(task, message)),
      warn: (message, fields) => (base.warn(message, fields), step(task, message)),
      info: (message, fields) => (base.info(message, fields), step(task, message)),
      debug: (message, fields) => base.debug(message, fields),
    }),
  };
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  const { [key]: _removed, ...rest } = record;
  return rest;
}

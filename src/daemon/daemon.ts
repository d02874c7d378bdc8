import type { ConcernContext } from '../core/concern.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { Job } from './job.ts';
import { acquireLock } from './lock.ts';
import type { Notifier } from './notify.ts';
import { type Clock, runScheduler, type TaskRecord } from './scheduler.ts';
import { type DaemonStatus, writeStatus } from './status-file.ts';
import { daemonTasks } from './tasks.ts';

export interface DaemonDeps {
  readonly host: Host;
  readonly pid: number;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly jobs: readonly Job[];
  /** The context for the next task: the latest config (reloaded on SIGHUP); `fresh` also re-reads the OS facts. */
  context(fresh: boolean): Promise<ConcernContext>;
  /** Aborted on SIGTERM. */
  readonly signal: AbortSignal;
}

/**
 * The long-running agent: one per host, ready as soon as its schedule runs,
 * watchdog pings while the event loop is alive, status after every task, and
 * on SIGTERM the tasks finish or abandon their step before it returns.
 */
export async function runDaemon(deps: DaemonDeps): Promise<void> {
  const { host, logger, notifier, signal } = deps;
  const first = await deps.context(true);
  const lock = await acquireLock(host, deps.pid);
  const tasks = daemonTasks((fresh) => deps.context(fresh), first, deps.jobs);
  let status: DaemonStatus = { pid: deps.pid, startedAt: now(deps.clock), updatedAt: now(deps.clock), state: 'running', tasks: {} };
  const record = async (task: TaskRecord) => {
    status = { ...status, updatedAt: now(deps.clock), tasks: { ...status.tasks, [task.name]: task } };
    const log = task.result === 'ok' ? logger.info : logger.error;
    log.call(logger, `${task.name}: ${task.summary}`, { durationMs: task.durationMs, nextRunAt: task.nextRunAt });
    await writeStatus(host, status);
  };
  const watchdog = startWatchdog(notifier, logger);
  try {
    await writeStatus(host, status);
    await notifier.ready();
    logger.info(`running: ${tasks.map((task) => `${task.name} every ${task.intervalMs / 1000}s`).join(', ') || 'no tasks configured'}`);
    // With no task configured the daemon still runs (and answers the watchdog) until stopped.
    await Promise.all([runScheduler(tasks, deps.clock, signal, record), untilAborted(signal)]);
    await notifier.stopping();
  } finally {
    clearInterval(watchdog);
    await writeStatus(host, { ...status, updatedAt: now(deps.clock), state: 'stopped' });
    await lock.release();
  }
}

function startWatchdog(notifier: Notifier, logger: Logger): ReturnType<typeof setInterval> | undefined {
  if (notifier.watchdogIntervalMs === null) return undefined;
  return setInterval(() => {
    notifier.watchdog().catch((error: unknown) => logger.warn(`watchdog ping failed: ${String(error)}`));
  }, notifier.watchdogIntervalMs);
}

function untilAborted(signal: AbortSignal): Promise<void> {
  return signal.aborted ? Promise.resolve() : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

function now(clock: Clock): string {
  return new Date(clock.now()).toISOString();
}

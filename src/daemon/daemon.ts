import type { ConcernContext } from '../core/concern.ts';
import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger, LogLevel } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { OsFacts } from '../os/facts.ts';
import type { Job } from './job.ts';
import type { JobProcess } from './job-process.ts';
import { acquireLock } from './lock.ts';
import type { Notifier } from './notify.ts';
import { type Reload, reloadAndApply } from './reload.ts';
import { type Clock, type SchedulerClock, type SchedulerDeps, startScheduler, untilAborted } from './scheduler.ts';
import { createStatusBoard, type StatusBoard } from './status-board.ts';
import { describeCommands, type RunningCommand, stoppableHost } from './stoppable-host.ts';
import { createTaskLog, describeDelay } from './task-log.ts';
import { daemonTasks } from './tasks.ts';

export interface DaemonDeps {
  readonly host: Host;
  readonly pid: number;
  readonly logger: Logger;
  readonly notifier: Notifier;
  readonly clock: SchedulerClock;
  /** Uniform in [0, 1): spreads schedules and retries (Math.random; tests fix it). */
  readonly random: () => number;
  readonly jobs: readonly Job[];
  /** How a job that asks for a process of its own starts one; absent: every job runs in the daemon (tests). */
  readonly jobProcess?: JobProcess;
  /** The configuration read at start. */
  readonly config: Config;
  /** The OS facts; `fresh` reads them again first (each converge does). */
  osFacts(fresh: boolean): Promise<OsFacts>;
  /** Reads the configuration again for a reload; rejects (a ConfigError) when it is bad. */
  readConfig(): Promise<Config>;
  /** Sets the level of `logger`: a reloaded LOG_LEVEL applies at once. */
  setLogLevel(level: LogLevel): void;
  /** Each `reload` event (SIGHUP) reloads the configuration; one before the daemon is ready is ignored. */
  readonly reloads: EventTarget;
  /** Aborted on SIGTERM. */
  readonly signal: AbortSignal;
}

export interface DaemonEnd {
  /** Commands still running when the daemon gave up waiting for them: the caller exits without them. */
  readonly leftRunning: readonly RunningCommand[];
}

/**
 * How long a stop waits for what must not be killed (an install under way)
 * before the daemon exits without it; the command then finishes on its own
 * (the unit's KillMode=process leaves it alone). Well within the unit's
 * TimeoutStopSec, and short beside a spot instance's two-minute warning.
 */
export const STOP_GRACE_MS = 10_000;

/**
 * The long-running agent: one per host, ready as soon as its schedule runs,
 * watchdog pings while the event loop is alive, status as tasks start, log
 * steps and finish. On SIGHUP: the configuration read again and applied to
 * everything (see reload.ts). On SIGTERM: STOPPING=1 at once, nothing new
 * starts, what is safe to kill is killed, the rest is waited for at most
 * STOP_GRACE_MS.
 */
export async function runDaemon(deps: DaemonDeps): Promise<DaemonEnd> {
  const { host, logger, notifier, signal, clock } = deps;
  const lock = await acquireLock(host, deps.pid);
  const stoppable = stoppableHost(host, signal);
  const board = createStatusBoard(host, deps.pid, clock, logger);
  let config = deps.config;
  const contextFor = async (task: string, fresh: boolean): Promise<ConcernContext> => {
    const os = await deps.osFacts(fresh);
    return { host: stoppable.host, config, os, logger: board.loggerFor(task, logger), resetAgentState: false };
  };
  const tasks = async () =>
    daemonTasks(contextFor, await contextFor('daemon', false), deps.jobs, deps.jobProcess ?? null);
  const watchdog = startWatchdog(notifier, logger);
  // The state first: status writes go out in the order they are made, so 'stopped' can only come after it.
  const onStop = () => {
    void board.setState('stopping');
    void announceStop(deps, board.current().current ?? {}, stoppable.running());
  };
  signal.addEventListener('abort', onStop, { once: true });
  let onReload = () => {};
  try {
    await board.setState('running');
    const first = await tasks();
    const scheduler = startScheduler(first, scheduleEvents(deps, board));
    const reload: Reload = {
      read: () => deps.readConfig(),
      async apply(next) {
        config = next;
        deps.setLogLevel(next.LOG_LEVEL);
        return scheduler.replace(await tasks());
      },
    };
    onReload = reloadsInTurn(deps, board, reload, () => config);
    deps.reloads.addEventListener('reload', onReload);
    await notifier.ready();
    const schedule = first.map((task) => `${task.name} every ${describeDelay(task.intervalMs)}`).join(', ');
    logger.info(`running: ${schedule || 'no tasks configured'}`);
    // With no task configured the daemon still runs (and answers the watchdog) until stopped.
    await untilAborted(signal);
    if (await finishesWithin(scheduler.done, STOP_GRACE_MS, clock)) return { leftRunning: [] };
    const leftRunning = stoppable.running();
    const what = `${describeDelay(STOP_GRACE_MS)} for ${describeCommands(leftRunning, clock)}`;
    logger.warn(`stopping without waiting longer than ${what}: left to finish on its own`);
    return { leftRunning };
  } finally {
    deps.reloads.removeEventListener('reload', onReload);
    signal.removeEventListener('abort', onStop);
    clearInterval(watchdog);
    await board.setState('stopped');
    await lock.release();
  }
}

/** What the scheduler tells: the log gets the news, status everything. */
function scheduleEvents(deps: DaemonDeps, board: StatusBoard): SchedulerDeps {
  const taskLog = createTaskLog(deps.logger);
  return {
    clock: deps.clock,
    random: deps.random,
    signal: deps.signal,
    started: (name, at) => board.started(name, at),
    finished: async (record) => {
      taskLog(record, deps.clock.now());
      await board.finished(record);
    },
    rescheduled: (name, nextRunAt) => board.rescheduled(name, nextRunAt),
    removed: (name) => board.removed(name),
  };
}

/** The handler of `reload` events: one reload at a time, in the order asked, none once stopping. */
function reloadsInTurn(deps: DaemonDeps, board: StatusBoard, reload: Reload, running: () => Config): () => void {
  const { clock, logger, signal } = deps;
  let appliedAt = board.current().startedAt;
  let turn = Promise.resolve();
  const once = async () => {
    if (signal.aborted) return;
    const at = new Date(clock.now()).toISOString();
    const before = running();
    const record = await reloadAndApply(before, reload, logger, at, appliedAt);
    if (running() !== before) appliedAt = at;
    await board.reloaded(record);
  };
  return () => {
    turn = turn.then(once).catch((error: unknown) => logger.error(`reload failed: ${messageOf(error)}`));
  };
}

/** STOPPING=1 first, then what is still running and what happens to it. */
async function announceStop(
  deps: DaemonDeps,
  tasks: Readonly<Record<string, unknown>>,
  commands: readonly RunningCommand[],
): Promise<void> {
  await deps.notifier
    .stopping()
    .catch((error: unknown) => deps.logger.warn(`systemd-notify STOPPING=1 failed: ${String(error)}`));
  const names = Object.keys(tasks);
  if (names.length === 0) return deps.logger.info('stopping: no task running');
  const killed = commands.filter((command) => command.interruptible);
  const waited = commands.filter((command) => !command.interruptible);
  const parts = [`stopping: ${names.join(', ')} running; no new step or task starts`];
  if (killed.length > 0) parts.push(`stopping ${describeCommands(killed, deps.clock)}`);
  if (waited.length > 0)
    parts.push(`waiting up to ${describeDelay(STOP_GRACE_MS)} for ${describeCommands(waited, deps.clock)}`);
  deps.logger.info(parts.join('; '));
}

async function finishesWithin(work: Promise<void>, ms: number, clock: Clock): Promise<boolean> {
  const timer = new AbortController();
  const finished = await Promise.race([work.then(() => true), clock.sleep(ms, timer.signal).then(() => false)]);
  timer.abort();
  return finished;
}

function startWatchdog(notifier: Notifier, logger: Logger): ReturnType<typeof setInterval> | undefined {
  if (notifier.watchdogIntervalMs === null) return undefined;
  return setInterval(() => {
    notifier.watchdog().catch((error: unknown) => logger.warn(`watchdog ping failed: ${String(error)}`));
  }, notifier.watchdogIntervalMs);
}

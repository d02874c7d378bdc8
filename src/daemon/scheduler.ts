/**
 * Runs each task at start and then on its own schedule until aborted. Tasks
 * that change the system (converge, users, updates) take turns through one
 * mutex; read-only ones (metrics) never wait for them. A failing task is
 * retried by its own backoff and never stops the others.
 *
 * Schedules are spread: each task's periodic runs fall on a grid at a random
 * offset within its interval (start + offset + k × interval), so hosts started
 * together do not run in lockstep, and a run that overruns skips grid points
 * rather than piling up. Retries are jittered by ±RETRY_JITTER. Time between
 * runs is measured on the monotonic clock: setting the wall clock (NTP at
 * first boot, an operator) neither delays nor hurries a task.
 */
export interface Task {
  readonly name: string;
  readonly intervalMs: number;
  readonly exclusive: boolean;
  readonly retry: RetryPolicy;
  /** Resolves with a one-line summary (and data for `status --json`); rejects on failure. */
  run(signal: AbortSignal): Promise<TaskOutcome>;
}

/** After the nth consecutive failure the task runs again after min(firstMs × 2^(n-1), maxMs), jittered. */
export interface RetryPolicy {
  readonly firstMs: number;
  readonly maxMs: number;
}

export interface TaskOutcome {
  readonly summary: string;
  readonly details?: unknown;
}

export interface TaskRecord {
  readonly name: string;
  /** `stopped`: the daemon was stopping and the run gave up part-way. */
  readonly result: 'ok' | 'failed' | 'stopped';
  readonly summary: string;
  readonly details?: unknown;
  /** For the log when the summary repeats what was logged already (a converge's failed concerns). */
  readonly brief?: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly consecutiveFailures: number;
  readonly nextRunAt: string;
}

export interface Clock {
  /** Wall-clock time in ms since the epoch: what status shows. */
  now(): number;
  /** Resolves after ms, or early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/** The scheduler's clock also reads one that nobody sets (CLOCK_MONOTONIC), in ms: when tasks run. */
export interface SchedulerClock extends Clock {
  monotonic(): number;
}

export interface SchedulerDeps {
  readonly clock: SchedulerClock;
  /** Uniform in [0, 1): the offset of each schedule and the jitter of retries. */
  readonly random: () => number;
  readonly signal: AbortSignal;
  /** A run begins (after the task's turn came, for an exclusive one). */
  readonly started?: (name: string, startedAt: string) => Promise<void> | void;
  readonly finished: (record: TaskRecord) => Promise<void> | void;
}

/** A failure whose details were logged as they happened: the log gets `brief`, status the whole message. */
export class TaskFailure extends Error {
  readonly brief: string;

  constructor(message: string, brief: string) {
    super(message);
    this.name = 'TaskFailure';
    this.brief = brief;
  }
}

export const MAX_BACKOFF_MS = 60 * 60_000;
export const RETRY_JITTER = 0.2;

/** The usual policy: twice the interval, then four times …, at most an hour (or the interval, if longer). */
export function defaultRetry(intervalMs: number): RetryPolicy {
  return { firstMs: 2 * intervalMs, maxMs: Math.max(intervalMs, MAX_BACKOFF_MS) };
}

export function retryDelayMs(policy: RetryPolicy, failures: number, random: () => number): number {
  const base = Math.min(policy.firstMs * 2 ** Math.max(0, failures - 1), policy.maxMs);
  return Math.round(base * (1 - RETRY_JITTER + 2 * RETRY_JITTER * random()));
}

/** The first point origin + k × interval (k ≥ 1) after now. */
export function nextOnGrid(originMs: number, intervalMs: number, nowMs: number): number {
  const k = Math.max(1, Math.floor((nowMs - originMs) / intervalMs) + 1);
  return originMs + k * intervalMs;
}

export async function runScheduler(tasks: readonly Task[], deps: SchedulerDeps): Promise<void> {
  const exclusive = createMutex();
  await Promise.all(tasks.map((task) => runTask(task, deps, exclusive)));
}

async function runTask(task: Task, deps: SchedulerDeps, exclusive: Mutex): Promise<void> {
  const { clock, signal } = deps;
  const origin = clock.monotonic() + deps.random() * task.intervalMs;
  let due = clock.monotonic();
  let failures = 0;
  for (;;) {
    await clock.sleep(Math.max(0, due - clock.monotonic()), signal);
    if (signal.aborted) return;
    const release = task.exclusive ? await exclusive.acquire() : () => {};
    try {
      if (signal.aborted) return;
      const started = clock.now();
      await deps.started?.(task.name, new Date(started).toISOString());
      const ran = await runOnce(task, signal);
      failures = ran.result === 'failed' ? failures + 1 : ran.result === 'ok' ? 0 : failures;
      const now = clock.monotonic();
      due =
        ran.result === 'failed'
          ? now + retryDelayMs(task.retry, failures, deps.random)
          : nextOnGrid(origin, task.intervalMs, now);
      release();
      await deps.finished({
        name: task.name,
        ...ran,
        startedAt: new Date(started).toISOString(),
        durationMs: clock.now() - started,
        consecutiveFailures: failures,
        nextRunAt: new Date(clock.now() + (due - now)).toISOString(),
      });
    } finally {
      release();
    }
  }
}

type Ran = Pick<TaskRecord, 'result' | 'summary' | 'details' | 'brief'>;

async function runOnce(task: Task, signal: AbortSignal): Promise<Ran> {
  try {
    return { result: 'ok', ...(await task.run(signal)) };
  } catch (error) {
    const summary = error instanceof Error ? error.message : String(error);
    const brief = error instanceof TaskFailure ? { brief: error.brief } : {};
    return { result: signal.aborted ? 'stopped' : 'failed', summary, ...brief };
  }
}

interface Mutex {
  /** Resolves with the release function once it is this caller's turn; releasing twice is harmless. */
  acquire(): Promise<() => void>;
}

function createMutex(): Mutex {
  let tail = Promise.resolve();
  return {
    acquire() {
      let release = () => {};
      const turn = new Promise<void>((resolve) => {
        release = resolve;
      });
      const ready = tail.then(() => release);
      tail = tail.then(() => turn);
      return ready;
    },
  };
}

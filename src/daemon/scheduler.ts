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
 *
 * The tasks can be replaced while they run (a reload): see Schedule.replace.
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
  /** A replace gave a waiting task a new next run. */
  readonly rescheduled?: (name: string, nextRunAt: string) => Promise<void> | void;
  /** A task a replace left out ran its last (after its run in progress, if any). */
  readonly removed?: (name: string) => Promise<void> | void;
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

/** What a replace changed: a task turned on (fromMs null), off (toMs null), or given a new interval. */
export interface ScheduleChange {
  readonly name: string;
  readonly fromMs: number | null;
  readonly toMs: number | null;
}

export interface Schedule {
  /** Settles once the signal aborted and every run in progress ended. */
  readonly done: Promise<void>;
  /**
   * The tasks from now on (a reload). A task new to the list runs at once, as at start. A task left out runs no
   * more (a run in progress finishes). A task with a new interval gets a new grid at a random offset, so its next
   * run comes within one new interval (hosts reloaded together stay spread); a failing one keeps its count of
   * failures and is retried by the new interval's policy, counted from its last run. The others keep their
   * schedule. Returns what changed.
   */
  replace(tasks: readonly Task[]): ScheduleChange[];
}

/** A task's place in the schedule. */
interface Slot {
  task: Task;
  /** The grid: periodic runs fall on origin + k × interval (monotonic ms). */
  origin: number;
  /** When the next run is due (monotonic ms). */
  due: number;
  failures: number;
  /** When the last run ended (monotonic ms), null before the first. */
  lastEnd: number | null;
  running: boolean;
  removed: boolean;
  /** Aborted to end the current wait early: the task was rescheduled or removed, or the daemon stops. */
  wake: AbortController;
}

export function startScheduler(tasks: readonly Task[], deps: SchedulerDeps): Schedule {
  const { clock, signal } = deps;
  const exclusive = createMutex();
  const slots = new Map<string, Slot>();
  const loops = new Set<Promise<void>>();
  const start = (task: Task) => {
    const now = clock.monotonic();
    const slot: Slot = {
      task,
      origin: now + deps.random() * task.intervalMs,
      due: now,
      failures: 0,
      lastEnd: null,
      running: false,
      removed: false,
      wake: new AbortController(),
    };
    slots.set(task.name, slot);
    const loop = runSlot(slot, deps, exclusive, () => {
      // At once when the loop ends: a replace from then on starts the task afresh.
      if (slots.get(task.name) === slot) slots.delete(task.name);
    });
    loops.add(loop);
    void loop.finally(() => loops.delete(loop));
  };
  signal.addEventListener('abort', () => slots.forEach((slot) => slot.wake.abort()), { once: true });
  for (const task of tasks) start(task);
  return {
    done: untilAborted(signal).then(async () => void (await Promise.all(loops))),
    replace(next) {
      if (signal.aborted) return [];
      const names = new Set(next.map((task) => task.name));
      const removed = [...slots.values()].filter((slot) => !slot.removed && !names.has(slot.task.name));
      const changes = removed.map((slot) => remove(slot));
      for (const task of next) {
        const slot = slots.get(task.name);
        const fromMs = slot === undefined || slot.removed ? null : slot.task.intervalMs;
        if (slot === undefined) start(task);
        else replaceTask(slot, task, fromMs, deps);
        if (fromMs !== task.intervalMs) changes.push({ name: task.name, fromMs, toMs: task.intervalMs });
      }
      return changes;
    },
  };
}

function remove(slot: Slot): ScheduleChange {
  slot.removed = true;
  slot.wake.abort();
  return { name: slot.task.name, fromMs: slot.task.intervalMs, toMs: null };
}

/** The task's new definition; with a new interval (or turned on again), a new grid and next run. */
function replaceTask(slot: Slot, task: Task, fromMs: number | null, deps: SchedulerDeps): void {
  slot.task = task;
  slot.removed = false;
  if (fromMs === task.intervalMs) return;
  const now = deps.clock.monotonic();
  // The first point of this grid after now is at a random offset within one interval.
  slot.origin = now - (1 - deps.random()) * task.intervalMs;
  // A run in progress, or the first one still to come, sets the next run itself.
  if (slot.running || slot.lastEnd === null) return;
  slot.due =
    slot.failures > 0
      ? slot.lastEnd + retryDelayMs(task.retry, slot.failures, deps.random)
      : nextOnGrid(slot.origin, task.intervalMs, now);
  slot.wake.abort();
  void deps.rescheduled?.(task.name, new Date(deps.clock.now() + Math.max(0, slot.due - now)).toISOString());
}

async function runSlot(slot: Slot, deps: SchedulerDeps, exclusive: Mutex, ended: () => void): Promise<void> {
  const { clock, signal } = deps;
  const over = () => signal.aborted || slot.removed;
  try {
    for (;;) {
      await untilDue(slot, clock, over);
      if (over()) return;
      const release = slot.task.exclusive ? await exclusive.acquire() : () => {};
      try {
        if (over()) return;
        await runAndRecord(slot, deps, release);
      } finally {
        release();
      }
    }
  } finally {
    ended();
    if (slot.removed && !signal.aborted) await deps.removed?.(slot.task.name);
  }
}

async function untilDue(slot: Slot, clock: SchedulerClock, over: () => boolean): Promise<void> {
  while (!over() && slot.due > clock.monotonic()) {
    slot.wake = new AbortController();
    await clock.sleep(slot.due - clock.monotonic(), slot.wake.signal);
  }
}

/** One run: the task's record goes to `finished` after its turn is released. */
async function runAndRecord(slot: Slot, deps: SchedulerDeps, release: () => void): Promise<void> {
  const { clock, signal } = deps;
  const started = clock.now();
  let ran: Ran;
  slot.running = true;
  try {
    await deps.started?.(slot.task.name, new Date(started).toISOString());
    ran = await runOnce(slot.task, signal);
  } finally {
    slot.running = false;
  }
  slot.failures = ran.result === 'failed' ? slot.failures + 1 : ran.result === 'ok' ? 0 : slot.failures;
  const now = clock.monotonic();
  slot.lastEnd = now;
  slot.due =
    ran.result === 'failed'
      ? now + retryDelayMs(slot.task.retry, slot.failures, deps.random)
      : nextOnGrid(slot.origin, slot.task.intervalMs, now);
  release();
  await deps.finished({
    name: slot.task.name,
    ...ran,
    startedAt: new Date(started).toISOString(),
    durationMs: clock.now() - started,
    consecutiveFailures: slot.failures,
    nextRunAt: new Date(clock.now() + (slot.due - now)).toISOString(),
  });
}

/** Resolves once the signal aborts (at once if it has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return signal.aborted
    ? Promise.resolve()
    : new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
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

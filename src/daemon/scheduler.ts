/**
 * Runs each task on its own interval until aborted. Tasks that change the
 * system (converge, users, updates) take turns through one mutex; read-only
 * ones (metrics) never wait for them. A failing task backs off exponentially
 * and never stops the others.
 */
export interface Task {
  readonly name: string;
  readonly intervalMs: number;
  readonly exclusive: boolean;
  /** Run once right away rather than after the first interval. */
  readonly runAtStart: boolean;
  /** Resolves with a one-line summary (and data for `status --json`); rejects on failure. */
  run(signal: AbortSignal): Promise<TaskOutcome>;
}

export interface TaskOutcome {
  readonly summary: string;
  readonly details?: unknown;
}

export interface TaskRecord {
  readonly name: string;
  readonly result: 'ok' | 'failed';
  readonly summary: string;
  readonly details?: unknown;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly consecutiveFailures: number;
  readonly nextRunAt: string;
}

export interface Clock {
  now(): number;
  /** Resolves after ms, or early when the signal aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const MAX_BACKOFF_MS = 60 * 60_000;

export function backoffMs(intervalMs: number, failures: number): number {
  if (failures === 0) return intervalMs;
  return Math.min(intervalMs * 2 ** failures, Math.max(intervalMs, MAX_BACKOFF_MS));
}

export async function runScheduler(
  tasks: readonly Task[],
  clock: Clock,
  signal: AbortSignal,
  onRecord: (record: TaskRecord) => Promise<void> | void,
): Promise<void> {
  const exclusive = createMutex();
  await Promise.all(tasks.map((task) => runTask(task, clock, signal, exclusive, onRecord)));
}

async function runTask(
  task: Task,
  clock: Clock,
  signal: AbortSignal,
  exclusive: Mutex,
  onRecord: (record: TaskRecord) => Promise<void> | void,
): Promise<void> {
  let failures = 0;
  let delay = task.runAtStart ? 0 : task.intervalMs;
  while (!signal.aborted) {
    await clock.sleep(delay, signal);
    if (signal.aborted) return;
    const release = task.exclusive ? await exclusive.acquire() : () => {};
    const started = clock.now();
    let outcome: TaskOutcome;
    try {
      outcome = await task.run(signal);
      failures = 0;
    } catch (error) {
      failures++;
      outcome = { summary: error instanceof Error ? error.message : String(error) };
    } finally {
      release();
    }
    delay = backoffMs(task.intervalMs, failures);
    await onRecord({
      name: task.name,
      result: failures === 0 ? 'ok' : 'failed',
      ...outcome,
      startedAt: new Date(started).toISOString(),
      durationMs: clock.now() - started,
      consecutiveFailures: failures,
      nextRunAt: new Date(clock.now() + delay).toISOString(),
    });
  }
}

interface Mutex {
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

import { setTimeout as delay } from 'node:timers/promises';

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

/** Wall-clock time, the monotonic clock, and timers that an abort cuts short. */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

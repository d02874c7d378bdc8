import { setTimeout as delay } from 'node:timers/promises';

import type { SchedulerClock } from './scheduler.ts';

/** Wall-clock time, the monotonic clock, and timers that an abort cuts short. */
export const systemClock: SchedulerClock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

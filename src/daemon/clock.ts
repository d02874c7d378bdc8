import { setTimeout as delay } from 'node:timers/promises';

import type { Clock } from './scheduler.ts';

/** Wall-clock time and timers that an abort cuts short. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined),
};

import type { SchedulerClock } from '../../../src/daemon/scheduler.ts';

/** A Clock that moves only when the test advances it: waits end when their time is passed (or on abort). */
export class ManualClock implements SchedulerClock {
  #now: number;
  #sleepers: Array<{ readonly at: number; readonly resolve: () => void }> = [];

  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves with now(): this clock is never set back. */
  monotonic(): number {
    return this.#now;
  }

  /** Waits that have not ended yet. */
  get waiting(): number {
    return this.#sleepers.length;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { at: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((other) => other !== sleeper);
          resolve();
        },
        { once: true },
      );
    });
  }

  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((sleeper) => sleeper.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.at > this.#now);
    for (const sleeper of due) sleeper.resolve();
  }
}

/**
 * Lets the work the test set off run until the condition holds: pending promise callbacks, then one turn of the
 * event loop at a time. No real time passes and no timer is involved: the code under test waits only on a
 * ManualClock (or a FakeHost), so whatever can happen before the test moves the clock happens within a few turns.
 * Fails naming the condition when it still does not hold after `turns` turns: the work is stuck, not slow.
 */
export async function until(condition: () => boolean, what: string, turns = 1000): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn === turns) throw new Error(`${what}: still not so after ${turns} turns of the event loop`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

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
      signal.addEventListener('abort', () => {
        this.#sleepers = this.#sleepers.filter((other) => other !== sleeper);
        resolve();
      }, { once: true });
    });
  }

  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((sleeper) => sleeper.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.at > this.#now);
    for (const sleeper of due) sleeper.resolve();
  }
}

/** Polls (without timing assertions) until the condition holds; fails naming it after a generous bound. */
export async function until(condition: () => boolean, what: string, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

import type { Clock } from '../../src/daemon/scheduler.ts';
import { RealHost } from '../../src/host/real-host.ts';

/**
 * This machine's real Host, but its clock is one the test moves: samples a second apart are taken without waiting
 * a second. Start the clock a little in the past (real receivers keep what is not in their future).
 */
export class ClockedHost extends RealHost {
  readonly #clock: Clock;

  constructor(clock: Clock) {
    super('/');
    this.#clock = clock;
  }

  override now(): Date {
    return new Date(this.#clock.now());
  }
}

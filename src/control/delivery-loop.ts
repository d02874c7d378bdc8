import type { Clock } from '../daemon/scheduler.ts';
import type { Delivery } from './delivery.ts';

/**
 * The daemon's delivery, apart from sampling: one loop that runs a Delivery's
 * rounds one after another (never two at once), woken by new samples (kick),
 * by the end of a backoff or by the next probe, so that an endpoint that hangs
 * or refuses never holds up the metrics job that takes the samples.
 */
export class DeliveryLoop {
  readonly #delivery: Delivery;
  readonly #clock: Clock;
  readonly #stop = new AbortController();
  #running: Promise<void> | null = null;
  #kicked = false;
  /** Aborted by a kick while the loop waits for samples. */
  #idle: AbortController | null = null;

  constructor(delivery: Delivery, clock: Clock) {
    this.#delivery = delivery;
    this.#clock = clock;
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** New samples are in the spool: deliver them unless deliveries are backing off. */
  kick(): void {
    this.#kicked = true;
    this.#idle?.abort();
  }

  /** Ends the loop: a request in flight finishes first (at most its timeout). */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#idle?.abort();
    await this.#running;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#kicked = false;
      try {
        await this.#delivery.probe();
        await this.#delivery.round(signal);
      } catch {
        // The round counted it as a failed attempt and logged it; the backoff decides when the next one comes.
      }
      if (this.#kicked && !this.#delivery.backingOff) continue;
      await this.#wait(this.#delivery.wakeAt(), signal);
    }
  }

  /** Until the time given (kicks do not shorten a backoff), or with none until the next kick. */
  async #wait(untilMs: number | null, signal: AbortSignal): Promise<void> {
    if (untilMs !== null) return this.#clock.sleep(Math.max(0, untilMs - this.#clock.now()), signal);
    const idle = new AbortController();
    this.#idle = idle;
    if (this.#kicked || signal.aborted) return;
    await new Promise<void>((resolve) => idle.signal.addEventListener('abort', () => resolve(), { once: true }));
    this.#idle = null;
  }
}

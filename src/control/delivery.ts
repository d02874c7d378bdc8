import { createHash } from 'node:crypto';

import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { systemClock } from '../daemon/clock.ts';
import type { Clock } from '../daemon/scheduler.ts';
import type { Sample } from '../metrics/sample.ts';
import type { SpoolStatus } from './protocol.ts';
import type { SampleSink } from './sinks/sink.ts';
import { type SendFailure, sendSplitting } from './split-send.ts';
import type { DeliverySpool } from './spool-cursors.ts';

/**
 * Gets samples to one sink (the control endpoint, CloudWatch, remote write) at least once and in order. Every
 * sample is spooled first (so neither a down sink nor a crash loses it); a round replays what this sink has not
 * had, oldest first, in batches, until nothing waits or an attempt fails. After a failure no round is tried
 * before an exponential backoff with jitter (or the sink's Retry-After) has passed; when the sink was
 * unreachable and can be probed (the control endpoint's GET /v1/ping), a probe every probeMs may end the backoff
 * early. Rounds never overlap: the caller (DeliveryLoop, or a one-shot command) runs them one at a time.
 */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
  /** While backing off from an unreachable endpoint: how often it is pinged (times a jitter of 0.5 to 1). */
  readonly probeMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 15 * 60_000, probeMs: 30_000 };

export interface DeliveryOptions {
  readonly sink: SampleSink;
  /** This sink's view of the spool (a Spool of its own, or a reader of the shared one). */
  readonly spool: DeliverySpool;
  readonly logger: Logger;
  readonly backoff?: Backoff;
  /** 0 ≤ random() < 1, for the jitter. */
  readonly random?: () => number;
  readonly clock?: Clock;
}

/** What `status` shows of the delivery: written with every metrics run. */
export interface DeliveryState {
  /** "control", "cloudwatch" or "remote-write". */
  readonly sink: string;
  readonly endpoint: string;
  /** Failed attempts since the last one that delivered. */
  readonly consecutiveFailures: number;
  /** Why the last attempt failed, while failing. */
  readonly lastError: string | null;
  /** While backing off: no attempt before then (a ping that answers may end it sooner). */
  readonly backingOffUntil: string | null;
  /** While an attempt runs (a hung endpoint keeps one running up to the request timeout). */
  readonly attemptSince: string | null;
  readonly lastAttemptAt: string | null;
  readonly lastDeliveredAt: string | null;
  /** Samples the endpoint stored, and those it already had, since the agent started. */
  readonly delivered: number;
  readonly duplicates: number;
  readonly spool: SpoolStatus;
}

export interface RoundResult {
  /** False when nothing was sent: the spool was empty, or deliveries are backing off. */
  readonly tried: boolean;
  readonly delivered: number;
  readonly duplicates: number;
  readonly state: DeliveryState;
}

export class Delivery {
  readonly #options: DeliveryOptions;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  readonly #clock: Clock;
  #failures = 0;
  #nextAttemptMs = 0;
  #lastError: string | null = null;
  /** The last failure got no reply from the endpoint itself: pinging it tells when it is back. */
  #unreachable = false;
  #nextProbeMs = 0;
  #attemptSince: number | null = null;
  #lastAttemptMs: number | null = null;
  #lastDeliveredMs: number | null = null;
  #delivered = 0;
  #duplicates = 0;
  #batchLimit: number;

  constructor(options: DeliveryOptions) {
    this.#options = options;
    this.#batchLimit = options.sink.batchSamples;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? systemClock;
  }

  get endpoint(): string {
    return this.#options.sink.endpoint;
  }

  get #label(): string {
    return this.#options.sink.label;
  }

  get backingOff(): boolean {
    return this.#clock.now() < this.#nextAttemptMs;
  }

  /**
   * Replays the spool until it is empty, an attempt fails or the signal aborts; nothing while backing off.
   * An error (the token file became unsafe, the disk failed) is a failed attempt, logged as an error, and thrown.
   */
  async round(signal?: AbortSignal): Promise<RoundResult> {
    const { spool } = this.#options;
    const tally = { tried: false, delivered: 0, duplicates: 0 };
    if (this.backingOff) return { ...tally, state: this.state() };
    try {
      await spool.open();
      while (!spool.empty && !signal?.aborted) {
        tally.tried = true;
        this.#attemptSince ??= this.#clock.now();
        const failure = await this.#sendOldest(tally);
        if (failure !== null) {
          this.#fail(failure, failure.endpointFault ? 'error' : 'warn');
          break;
        }
      }
    } catch (error) {
      this.#fail({ reason: messageOf(error), unreachable: false, endpointFault: false }, 'error');
      throw error;
    } finally {
      if (tally.tried) this.#lastAttemptMs = this.#clock.now();
      this.#attemptSince = null;
    }
    return { ...tally, state: this.state() };
  }

  async #sendOldest(tally: { delivered: number; duplicates: number }): Promise<SendFailure | null> {
    const { spool, logger, sink } = this.#options;
    const batch = await spool.oldest(this.#batchLimit, sink.batchBytes);
    if (batch.items.length === 0) return null; // every segment read was torn (and dropped)
    const send = (samples: readonly Sample[]) => sink.send(samples, spool.status());
    const limitName = sink.limitName === undefined ? {} : { limitName: sink.limitName };
    const sent = await sendSplitting(batch.items, { send, logger, label: this.#label, noun: 'sample', ...limitName });
    tally.delivered += sent.accepted;
    tally.duplicates += sent.duplicates;
    this.#delivered += sent.accepted;
    this.#duplicates += sent.duplicates;
    if (sent.fittingSize !== null) this.#learnBatchLimit(sent.fittingSize);
    if (sent.failure !== null) {
      if (sent.failure.endpointFault) this.#batchLimit = this.#options.sink.batchSamples;
      return sent.failure;
    }
    await spool.remove(batch.segments);
    if (sent.refused > 0) await spool.countRejected(sent.refused);
    this.#succeed();
    return null;
  }

  #learnBatchLimit(fitting: number): void {
    if (fitting >= this.#batchLimit) return;
    this.#batchLimit = fitting;
    const { logger } = this.#options;
    logger.warn(`${this.#label}: a batch was too large (HTTP 413); now ${fitting} samples at most`);
  }

  /**
   * While backing off after the sink was unreachable, at most once per probeMs (with jitter): the sink's probe,
   * and when it answers, the backoff ends now. True when it did.
   */
  async probe(): Promise<boolean> {
    const now = this.#clock.now();
    const probe = this.#options.sink.probe;
    if (probe === undefined || !this.#probing || now < this.#nextProbeMs) return false;
    this.#nextProbeMs = now + this.#probeDelay();
    const result = await probe.call(this.#options.sink).catch(unreachableBecause);
    if (!result.reachable) {
      this.#options.logger.debug(`${this.#label} still unreachable`, { evidence: result.evidence });
      return false;
    }
    const until = new Date(this.#nextAttemptMs).toISOString();
    const { logger } = this.#options;
    logger.info(`${this.#label} answers again (${result.evidence}): delivering now instead of at ${until}`);
    this.#nextAttemptMs = 0;
    this.#unreachable = false;
    return true;
  }

  /** When a round or a probe is next due without new samples: null when nothing is waiting for time. */
  wakeAt(): number | null {
    if (!this.backingOff) return null;
    return this.#probing ? Math.min(this.#nextAttemptMs, this.#nextProbeMs) : this.#nextAttemptMs;
  }

  /** A probe tells something only after the sink gave no reply at all (a 413 or a 401 comes with a working ping). */
  get #probing(): boolean {
    return this.#options.sink.probe !== undefined && this.#unreachable && this.backingOff;
  }

  state(): DeliveryState {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return {
      sink: this.#options.sink.name,
      endpoint: this.endpoint,
      consecutiveFailures: this.#failures,
      lastError: this.#lastError,
      backingOffUntil: this.backingOff ? iso(this.#nextAttemptMs) : null,
      attemptSince: iso(this.#attemptSince),
      lastAttemptAt: iso(this.#lastAttemptMs),
      lastDeliveredAt: iso(this.#lastDeliveredMs),
      delivered: this.#delivered,
      duplicates: this.#duplicates,
      spool: this.#options.spool.status(),
    };
  }

  #succeed(): void {
    if (this.#failures > 0) {
      const pending = this.#options.spool.status().pendingSamples;
      const { logger } = this.#options;
      logger.info(`${this.#label} takes samples again after ${this.#failures} failures`, {
        pending,
      });
    }
    this.#failures = 0;
    this.#nextAttemptMs = 0;
    this.#lastError = null;
    this.#unreachable = false;
    this.#lastDeliveredMs = this.#clock.now();
  }

  #fail(failure: SendFailure, level: 'warn' | 'error'): void {
    const now = this.#clock.now();
    this.#failures++;
    const exponential = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** (this.#failures - 1));
    const delay = Math.max(Math.round(exponential * (0.5 + this.#random() / 2)), failure.retryAfterMs ?? 0);
    this.#nextAttemptMs = now + delay;
    this.#lastError = failure.reason;
    this.#unreachable = failure.unreachable && failure.retryAfterMs === undefined;
    this.#nextProbeMs = now + this.#probeDelay();
    const pending = this.#options.spool.status().pendingSamples;
    const next = new Date(this.#nextAttemptMs).toISOString();
    const waiting = `${counted(pending, 'sample')} in the spool, kept; next attempt not before ${next}`;
    const message = `${this.#label}: ${failure.reason}; ${waiting}`;
    this.#options.logger[level](message, { consecutiveFailures: this.#failures });
  }

  #probeDelay(): number {
    return Math.round(this.#backoff.probeMs * (0.5 + this.#random() / 2));
  }
}

function unreachableBecause(error: unknown): { readonly reachable: false; readonly evidence: string } {
  return { reachable: false, evidence: messageOf(error) };
}

/**
 * One line for `status` and the log: what delivery is doing, and when it fails, why and what comes next.
 * `justTried`: the caller ran the round itself (a one-shot command), so the next attempt is not about this sample.
 */
export function describeDelivery(state: DeliveryState, justTried = false): string {
  const waiting = `${counted(state.spool.pendingSamples, 'sample')} waiting`;
  const running = state.attemptSince === null ? null : `attempt running since ${state.attemptSince}`;
  if (state.consecutiveFailures === 0) {
    const last = state.lastDeliveredAt ? `last delivered at ${state.lastDeliveredAt}` : 'nothing delivered yet';
    return `delivery to ${state.endpoint}: ok, ${last}; ${waiting}${running === null ? '' : `, ${running}`}`;
  }
  const until = state.backingOffUntil;
  const later = justTried ? `next attempt not before ${until}` : `not tried (backing off until ${until})`;
  const backoff = until === null ? 'next attempt due now' : later;
  const failures = `${counted(state.consecutiveFailures, 'failed attempt')} in a row`;
  const failing = `delivery to ${state.endpoint} failing (${failures}): ${state.lastError}`;
  return `${failing}; ${waiting}; ${running ?? backoff}`;
}

function counted(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/**
 * Whether the metrics task's details (from the status file, perhaps an older agent's) say a delivery fails:
 * `deliveries` holds every sink's state, `delivery` the first sink's (all an older agent wrote).
 */
export function deliveryFailing(details: unknown): boolean {
  const { delivery, deliveries } = (details ?? {}) as { delivery?: unknown; deliveries?: unknown };
  const states = [delivery, ...(Array.isArray(deliveries) ? deliveries : [])];
  return states.some((state) => {
    const failures = (state as { consecutiveFailures?: unknown } | null | undefined)?.consecutiveFailures;
    return typeof failures === 'number' && failures > 0;
  });
}

/** A UUID derived from the item ids: the same samples (or events) make the same batch id, across restarts. */
export function batchIdOf(items: readonly { readonly id: string }[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(`${item.id}\n`);
  const hex = hash.digest('hex');
  // Version 5 and the RFC 4122 variant (10xx in the 17th digit's top bits), so it reads as a name-based UUID.
  const variant = ((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  const groups = [hex.slice(0, 8), hex.slice(8, 12), `5${hex.slice(13, 16)}`, `${variant}${hex.slice(17, 20)}`];
  return [...groups, hex.slice(20, 32)].join('-');
}

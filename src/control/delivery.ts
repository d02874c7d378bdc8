import { createHash } from 'node:crypto';

import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';
import type { ControlClient, SendOutcome } from './client.ts';
import { type Batch, type HostStatus, LIMITS, PROTOCOL_VERSION, type SpoolStatus } from './protocol.ts';
import type { Spool } from './spool.ts';

/**
 * Gets samples to the endpoint at least once and in order. While the spool is
 * empty a sample is sent at once; when that fails, or anything is already
 * waiting, it joins the spool, which is replayed oldest first, in batches,
 * after an exponential backoff with jitter (or the endpoint's Retry-After).
 */
export interface Backoff {
  readonly baseMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 5_000, maxMs: 15 * 60_000 };
/** Replayed batches stay well below what the endpoint must accept. */
const REPLAY_BYTES = LIMITS.batchBytes / 4;

export interface DeliveryOptions {
  readonly client: ControlClient;
  readonly spool: Spool;
  readonly logger: Logger;
  readonly hostId: string;
  readonly status: (spool: SpoolStatus) => Promise<HostStatus>;
  readonly backoff?: Backoff;
  /** 0 ≤ random() < 1, for the jitter. */
  readonly random?: () => number;
}

export interface DeliveryResult {
  readonly delivered: number;
  readonly duplicates: number;
  readonly spool: SpoolStatus;
  /** Set while deliveries are backing off. */
  readonly nextAttempt: Date | null;
  /** Why the last attempt failed, when it did. */
  readonly problem: string | null;
}

export class Delivery {
  readonly #host: Host;
  readonly #options: DeliveryOptions;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  #failures = 0;
  #nextAttemptMs = 0;
  #batchLimit: number = LIMITS.samplesPerBatch;

  constructor(host: Host, options: DeliveryOptions) {
    this.#host = host;
    this.#options = options;
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#random = options.random ?? Math.random;
  }

  async deliver(sample: Sample, signal?: AbortSignal): Promise<DeliveryResult> {
    const { spool } = this.#options;
    await spool.open();
    const tally = { delivered: 0, duplicates: 0, problem: null as string | null };
    if (this.#host.now().getTime() < this.#nextAttemptMs) {
      await spool.append([sample]);
    } else if (spool.empty) {
      const outcome = await this.#send([sample]).catch(async (error: unknown) => {
        await spool.append([sample]); // a configuration error (token file) must not lose the sample
        throw error;
      });
      if (outcome.kind === 'retry') await spool.append([sample]);
      else if (outcome.kind !== 'delivered') await spool.countRejected(1);
      this.#record(outcome, tally, 1);
    } else {
      await spool.append([sample]);
      await this.#replay(tally, signal);
    }
    return { ...tally, spool: spool.status(), nextAttempt: this.#nextAttemptMs > this.#host.now().getTime() ? new Date(this.#nextAttemptMs) : null };
  }

  async #replay(tally: { delivered: number; duplicates: number; problem: string | null }, signal?: AbortSignal): Promise<void> {
    const { spool } = this.#options;
    while (!spool.empty && !signal?.aborted) {
      const batch = await spool.oldest(this.#batchLimit, REPLAY_BYTES);
      if (batch.items.length === 0) continue; // every segment read was torn (and dropped)
      const outcome = await this.#send(batch.items);
      if (outcome.kind === 'delivered') await spool.remove(batch.segments);
      else if (outcome.kind === 'rejected' || (outcome.kind === 'too-large' && batch.items.length === 1)) await spool.reject(batch.segments);
      else if (outcome.kind === 'too-large') this.#batchLimit = Math.max(1, Math.floor(batch.items.length / 2));
      this.#record(outcome, tally, batch.items.length);
      if (outcome.kind === 'retry') return;
    }
  }

  #send(samples: readonly Sample[]): Promise<SendOutcome> {
    return this.#options.status(this.#options.spool.status()).then((status) => this.#options.client.send(this.#batch(samples, status)));
  }

  #batch(samples: readonly Sample[], status: HostStatus): Batch {
    return {
      protocol: PROTOCOL_VERSION,
      batchId: batchIdOf(samples),
      hostId: this.#options.hostId,
      sentAt: this.#host.now().toISOString(),
      samples,
      status,
    };
  }

  #record(outcome: SendOutcome, tally: { delivered: number; duplicates: number; problem: string | null }, samples: number): void {
    const { logger } = this.#options;
    if (outcome.kind === 'delivered') {
      this.#failures = 0;
      this.#nextAttemptMs = 0;
      tally.delivered += outcome.receipt.accepted;
      tally.duplicates += outcome.receipt.duplicates;
      return;
    }
    tally.problem = outcome.reason;
    if (outcome.kind === 'rejected') logger.error(`the control endpoint rejected ${samples} samples as invalid; they are dropped and counted`, { reason: outcome.reason });
    if (outcome.kind === 'too-large') logger.warn(`the control endpoint found a batch of ${samples} samples too large; sending fewer at once`, { reason: outcome.reason });
    if (outcome.kind !== 'retry') return;
    this.#failures++;
    const exponential = Math.min(this.#backoff.maxMs, this.#backoff.baseMs * 2 ** (this.#failures - 1));
    const delay = Math.max(Math.round(exponential * (0.5 + this.#random() / 2)), outcome.retryAfterMs ?? 0);
    this.#nextAttemptMs = this.#host.now().getTime() + delay;
    logger.warn(`control endpoint ${this.#options.client.url} unavailable: ${outcome.reason}; samples wait in the spool, next attempt in ${Math.ceil(delay / 1000)} s`, {
      failures: this.#failures,
      pending: this.#options.spool.status().pendingSamples,
    });
  }
}

/** A UUID derived from the item ids: the same samples (or events) make the same batch id, across restarts. */
export function batchIdOf(items: readonly { readonly id: string }[]): string {
  const hash = createHash('sha256');
  for (const item of items) hash.update(`${item.id}\n`);
  const hex = hash.digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

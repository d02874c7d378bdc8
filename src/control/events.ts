import { randomUUID } from 'node:crypto';

import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import { readHostId } from './status.ts';
import { ControlClient } from './client.ts';
import { batchIdOf } from './delivery.ts';
import { FileSink } from './file-sink.ts';
import { type EventBatch, type EventType, type HostEvent, LIMITS, PROTOCOL_VERSION } from './protocol.ts';
import { controlSettings } from './settings.ts';
import { sendSplitting } from './split-send.ts';
import { Spool } from './spool.ts';

/**
 * Host events (a decommission, a reboot sequence) for the control endpoint.
 * An event is written to its own spool (SPOOL_DIR/events) before it is sent,
 * so neither a down endpoint nor a crash loses it: the sender tries a bounded
 * number of times, and the daemon's `events` job sends what is left. Without
 * CONTROL_URL events go to EVENTS_SINK_FILE. Every event is also logged.
 */
export interface EventInput {
  readonly type: EventType;
  readonly outcome: string;
  readonly ok: boolean;
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

/**
 * Attempts of one flush; the wait doubles from retryDelayMs, and a Retry-After longer than maxWaitMs ends the flush.
 */
export interface RetryPolicy {
  readonly attempts: number;
  readonly retryDelayMs: number;
  readonly maxWaitMs: number;
}

/**
 * For commands (decommission): about 50 s at worst with 15 s request timeouts, well inside the shutdown unit's budget.
 */
export const COMMAND_RETRIES: RetryPolicy = { attempts: 3, retryDelayMs: 2000, maxWaitMs: 10_000 };
/** For the daemon's jobs: one attempt; the events job (and the scheduler's backoff) does the rest. */
export const DAEMON_RETRIES: RetryPolicy = { attempts: 1, retryDelayMs: 0, maxWaitMs: 0 };

export interface FlushResult {
  readonly delivered: number;
  readonly duplicates: number;
  /** Events still in the spool. */
  readonly pending: number;
  /** Why the last attempt failed, when it did. */
  readonly problem: string | null;
}

export interface ReportResult extends FlushResult {
  readonly event: HostEvent;
  /** The endpoint's URL, or the sink file's path. */
  readonly destination: string;
}

export interface EventReporter {
  report(input: EventInput): Promise<ReportResult>;
}

export const EVENTS_SPOOL = 'events';

/** The spooled events of this host and the client that sends them. */
export class EventOutbox {
  readonly #host: Host;
  readonly #client: ControlClient;
  readonly #config: Config;
  readonly #logger: Logger;
  readonly #hostId: string;

  private constructor(host: Host, client: ControlClient, config: Config, logger: Logger, hostId: string) {
    this.#host = host;
    this.#client = client;
    this.#config = config;
    this.#logger = logger;
    this.#hostId = hostId;
  }

  /** Null when CONTROL_URL is empty. */
  static async create(host: Host, config: Config, logger: Logger): Promise<EventOutbox | null> {
    const settings = controlSettings(config);
    if (settings === null) return null;
    return new EventOutbox(host, new ControlClient(host, settings, logger), config, logger, await readHostId(host));
  }

  get url(): string {
    return this.#client.url;
  }

  async record(event: HostEvent): Promise<void> {
    await (await this.#spool()).append([event]);
  }

  /** Sends the spooled events oldest first until none is left or the attempts are used up. */
  async flush(policy: RetryPolicy): Promise<FlushResult> {
    const spool = await this.#spool();
    const tally = { delivered: 0, duplicates: 0, problem: null as string | null };
    const send = (events: readonly HostEvent[]) => this.#client.sendEvents(this.#batch(events));
    const target = { send, logger: this.#logger, label: `control endpoint ${this.url}`, noun: 'event' };
    let batchLimit: number = LIMITS.eventsPerBatch;
    let failures = 0;
    while (!spool.empty) {
      const batch = await spool.oldest(batchLimit, LIMITS.batchBytes / 4);
      if (batch.items.length === 0) continue; // every segment read was torn (and dropped)
      const sent = await sendSplitting(batch.items, target);
      tally.delivered += sent.accepted;
      tally.duplicates += sent.duplicates;
      if (sent.fittingSize !== null) batchLimit = Math.min(batchLimit, sent.fittingSize);
      if (sent.failure === null) {
        await spool.remove(batch.segments);
        if (sent.refused > 0) await spool.countRejected(sent.refused);
        tally.problem = null;
        failures = 0;
        continue;
      }
      tally.problem = sent.failure.reason;
      if (sent.failure.endpointFault) {
        this.#logger.error(`control endpoint ${this.url}: ${sent.failure.reason}; the events wait in the spool`);
      }
      const waitMs = Math.max(policy.retryDelayMs * 2 ** failures++, sent.failure.retryAfterMs ?? 0);
      if (failures >= policy.attempts || waitMs > policy.maxWaitMs) break;
      await this.#host.sleep(waitMs);
    }
    return { ...tally, pending: spool.status().pendingSamples };
  }

  #batch(events: readonly HostEvent[]): EventBatch {
    return {
      protocol: PROTOCOL_VERSION,
      batchId: batchIdOf(events),
      hostId: this.#hostId,
      sentAt: this.#host.now().toISOString(),
      events,
    };
  }

  /** A fresh listing each time: the daemon and a command (decommission) may both have added events. */
  async #spool(): Promise<Spool<HostEvent>> {
    const { SPOOL_DIR, SPOOL_MAX_BYTES, SPOOL_MAX_AGE } = this.#config;
    const spool = new Spool<HostEvent>(
      this.#host,
      { dir: `${SPOOL_DIR}/${EVENTS_SPOOL}`, maxBytes: SPOOL_MAX_BYTES, maxAgeMs: SPOOL_MAX_AGE, noun: 'events' },
      this.#logger,
    );
    await spool.open();
    return spool;
  }
}

/** The reporter for this configuration: to the control endpoint through the events spool, or to EVENTS_SINK_FILE. */
export async function createEventReporter(
  host: Host,
  config: Config,
  logger: Logger,
  policy: RetryPolicy = COMMAND_RETRIES,
): Promise<EventReporter> {
  const outbox = await EventOutbox.create(host, config, logger);
  const sink = new FileSink<HostEvent>(host, config.EVENTS_SINK_FILE);
  return {
    async report(input) {
      const event: HostEvent = { id: randomUUID(), time: host.now().toISOString(), ...input };
      logEvent(logger, event);
      if (outbox === null) {
        await sink.write(event);
        return { event, destination: sink.path, delivered: 1, duplicates: 0, pending: 0, problem: null };
      }
      await outbox.record(event);
      const result = await outbox
        .flush(policy)
        .catch((error: unknown) => ({ delivered: 0, duplicates: 0, pending: 1, problem: messageOf(error) }));
      if (result.problem !== null) {
        logger.warn(
          `the ${event.type} event waits in ${config.SPOOL_DIR}/${EVENTS_SPOOL} for the ` +
            `control endpoint (the daemon sends it later): ${result.problem}`,
          { id: event.id },
        );
      }
      return { event, destination: outbox.url, ...result };
    },
  };
}

function logEvent(logger: Logger, event: HostEvent): void {
  const fields = { id: event.id, outcome: event.outcome };
  if (event.ok) logger.info(`${event.type}: ${event.message}`, fields);
  else logger.warn(`${event.type}: ${event.message}`, fields);
}

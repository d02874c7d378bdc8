import { timingSafeEqual } from 'node:crypto';

import type { HttpResponse, ServedRequest } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';
import { validate } from './json-schema.ts';
import type { JsonSchema } from './json-schema.ts';
import {
  type Batch,
  type EventBatch,
  EVENTS_PATH,
  HEADERS,
  type HostEvent,
  PING_PATH,
  PROTOCOL_VERSION,
  type Receipt,
  SAMPLES_PATH,
  USERS_PATH,
} from './protocol.ts';
import { MemoryStore, type ReceiverStore } from './receiver-store.ts';
import { batchSchema, eventBatchSchema } from './schemas.ts';

/**
 * The reference receiver of protocol v1: what `ecs-host-agent control-server`
 * runs and the tests deliver to. It checks every request against the schema,
 * stores each sample and event once (by id, in its ReceiverStore) before it
 * answers, and answers re-sends with a receipt that counts them as duplicates.
 */
export interface ReceiverOptions {
  /** The bearer token clients must send; null: no authentication (loopback trials). */
  readonly token: string | null;
  /** The users document for GET /v1/users; null: 404. */
  readonly usersDocument?: (hostId: string | null) => Promise<unknown>;
  /** Where accepted items are kept; in memory when not given. */
  readonly store?: ReceiverStore;
  /** Called after each batch is stored, with the samples it brought that were not stored before, in order. */
  readonly onStored?: (batch: Batch, fresh: readonly Sample[]) => Promise<void>;
  /** Called after each event batch is stored, with its events not stored before, in order. */
  readonly onStoredEvents?: (batch: EventBatch, fresh: readonly HostEvent[]) => Promise<void>;
}

const ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = {
  [SAMPLES_PATH]: 'POST',
  [EVENTS_PATH]: 'POST',
  [USERS_PATH]: 'GET',
  [PING_PATH]: 'GET',
};

export class Receiver {
  readonly #options: ReceiverOptions;
  readonly #store: ReceiverStore;
  /** Counters, for tests and the server's log. */
  readonly counts = {
    batches: 0,
    accepted: 0,
    duplicates: 0,
    events: 0,
    duplicateEvents: 0,
    invalid: 0,
    unauthorized: 0,
  };

  constructor(options: ReceiverOptions) {
    this.#options = options;
    this.#store = options.store ?? new MemoryStore();
  }

  async handle(request: ServedRequest): Promise<HttpResponse> {
    const path = request.path.split('?', 1)[0] as string;
    const method = ROUTES[path];
    if (method === undefined) return json(404, { error: `no such resource ${path}` });
    if (!this.#authorized(request.headers.authorization)) {
      this.counts.unauthorized++;
      return {
        ...json(401, { error: 'missing or wrong bearer token' }),
        headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
      };
    }
    if (request.method !== method) return json(405, { error: `use ${method}` });
    if (path === USERS_PATH) return this.#users(request);
    if (path === PING_PATH) return json(200, { protocol: PROTOCOL_VERSION });
    const batch = this.#batchOf(request, path === SAMPLES_PATH ? batchSchema : eventBatchSchema);
    if ('status' in batch) return batch;
    return json(
      200,
      path === SAMPLES_PATH
        ? await this.#accept(batch.valid as Batch)
        : await this.#acceptEvents(batch.valid as EventBatch),
    );
  }

  /** The request's body when it fits the schema and its idempotency key, else the reply that says why not. */
  #batchOf(request: ServedRequest, schema: JsonSchema): { readonly valid: Batch | EventBatch } | HttpResponse {
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? ''))
      return json(415, { error: 'send application/json' });
    let batch: unknown;
    try {
      batch = JSON.parse(Buffer.from(request.body).toString('utf8'));
    } catch {
      return this.#invalid(400, ['the body is not JSON']);
    }
    const problems = validate(schema, batch);
    if (problems.length > 0) return this.#invalid(422, problems);
    const valid = batch as Batch | EventBatch;
    if (request.headers[HEADERS.idempotencyKey] !== valid.batchId)
      return this.#invalid(400, [`the ${HEADERS.idempotencyKey} header is not the batchId`]);
    return { valid };
  }

  async #acceptEvents(batch: EventBatch): Promise<Receipt> {
    const fresh = await this.#store.addEvents(batch);
    await this.#options.onStoredEvents?.(batch, fresh);
    const duplicates = batch.events.length - fresh.length;
    this.counts.events += fresh.length;
    this.counts.duplicateEvents += duplicates;
    return { batchId: batch.batchId, accepted: fresh.length, duplicates };
  }

  async #accept(batch: Batch): Promise<Receipt> {
    this.counts.batches++;
    const fresh = await this.#store.addSamples(batch);
    await this.#options.onStored?.(batch, fresh);
    const duplicates = batch.samples.length - fresh.length;
    this.counts.accepted += fresh.length;
    this.counts.duplicates += duplicates;
    return { batchId: batch.batchId, accepted: fresh.length, duplicates };
  }

  async #users(request: ServedRequest): Promise<HttpResponse> {
    const document = (await this.#options.usersDocument?.(request.headers[HEADERS.hostId] ?? null)) ?? null;
    return document === null ? json(404, { error: 'no users document for this host' }) : json(200, document);
  }

  #invalid(status: number, problems: readonly string[]): HttpResponse {
    this.counts.invalid++;
    return json(status, { error: 'the request does not fit protocol v1', problems });
  }

  #authorized(header: string | undefined): boolean {
    if (this.#options.token === null) return true;
    const expected = Buffer.from(`Bearer ${this.#options.token}`);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

function json(status: number, body: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: new TextEncoder().encode(JSON.stringify(body)),
  };
}

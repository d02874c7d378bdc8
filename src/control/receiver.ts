import { timingSafeEqual } from 'node:crypto';

import type { HttpResponse, ServedRequest } from '../host/host.ts';
import type { Sample } from '../metrics/sample.ts';
import { validate } from './json-schema.ts';
import { type Batch, HEADERS, type Receipt, SAMPLES_PATH, USERS_PATH } from './protocol.ts';
import { batchSchema } from './schemas.ts';

/**
 * The reference receiver of protocol v1: what `ecs-host-agent control-server`
 * runs and the tests deliver to. It checks every request against the schema,
 * accepts each sample once (by id) and each batch once (by batch id), and
 * answers re-sends with a receipt that counts them as duplicates.
 */
export interface ReceiverOptions {
  /** The bearer token clients must send; null: no authentication (loopback trials). */
  readonly token: string | null;
  /** The users document for GET /v1/users; null: 404. */
  readonly usersDocument?: (hostId: string | null) => Promise<unknown>;
  /** Called with each batch and the samples it brought that were not seen before, in order. */
  readonly store?: (batch: Batch, fresh: readonly Sample[]) => Promise<void>;
}

/** Remembered ids, so a long-running receiver does not grow without bound. */
const REMEMBERED_IDS = 1_000_000;

export class Receiver {
  readonly #options: ReceiverOptions;
  readonly #sampleIds = new Set<string>();
  readonly #batchIds = new Set<string>();
  /** Counters, for tests and the server's log. */
  readonly counts = { batches: 0, accepted: 0, duplicates: 0, invalid: 0, unauthorized: 0 };

  constructor(options: ReceiverOptions) {
    this.#options = options;
  }

  async handle(request: ServedRequest): Promise<HttpResponse> {
    const path = request.path.split('?', 1)[0];
    if (path !== SAMPLES_PATH && path !== USERS_PATH) return json(404, { error: `no such resource ${path}` });
    if (!this.#authorized(request.headers.authorization)) {
      this.counts.unauthorized++;
      return { ...json(401, { error: 'missing or wrong bearer token' }), headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' } };
    }
    if (path === USERS_PATH) return request.method === 'GET' ? this.#users(request) : json(405, { error: 'use GET' });
    return request.method === 'POST' ? this.#samples(request) : json(405, { error: 'use POST' });
  }

  async #samples(request: ServedRequest): Promise<HttpResponse> {
    if (!/^application\/json\s*(;|$)/i.test(request.headers['content-type'] ?? '')) return json(415, { error: 'send application/json' });
    let batch: unknown;
    try {
      batch = JSON.parse(Buffer.from(request.body).toString('utf8'));
    } catch {
      return this.#invalid(400, ['the body is not JSON']);
    }
    const problems = validate(batchSchema, batch);
    if (problems.length > 0) return this.#invalid(422, problems);
    const valid = batch as Batch;
    if (request.headers[HEADERS.idempotencyKey] !== valid.batchId) return this.#invalid(400, [`the ${HEADERS.idempotencyKey} header is not the batchId`]);
    const receipt = await this.#accept(valid);
    return json(200, receipt);
  }

  async #accept(batch: Batch): Promise<Receipt> {
    this.counts.batches++;
    if (this.#batchIds.has(batch.batchId)) {
      this.counts.duplicates += batch.samples.length;
      return { batchId: batch.batchId, accepted: 0, duplicates: batch.samples.length };
    }
    const fresh = batch.samples.filter((sample) => !this.#sampleIds.has(sample.id));
    await this.#options.store?.(batch, fresh);
    remember(this.#batchIds, batch.batchId);
    for (const sample of fresh) remember(this.#sampleIds, sample.id);
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

function remember(ids: Set<string>, id: string): void {
  if (ids.size >= REMEMBERED_IDS) ids.delete(ids.values().next().value as string);
  ids.add(id);
}

function json(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) };
}

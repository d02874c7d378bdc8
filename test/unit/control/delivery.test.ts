import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ControlClient } from '../../../src/control/client.ts';
import { Delivery } from '../../../src/control/delivery.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import { Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { config, sample, status } from './fixtures.ts';

type Fault = (request: HttpRequest) => HttpResponse | 'refused' | null;

/** A Delivery to a reference Receiver on a FakeHost; `fault` may answer instead of the receiver. */
function setup(spoolBytes = 2 ** 30) {
  const host = new FakeHost();
  host.clock = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));
  const received: Sample[] = [];
  const receiver = new Receiver({ token: null, store: async (_batch, fresh) => void received.push(...fresh) });
  const state: { fault: Fault } = { fault: () => null };
  host.http = async (request) => {
    host.httpCalls.push(request);
    const faulty = state.fault(request);
    if (faulty === 'refused') throw new Error('connect ECONNREFUSED 127.0.0.1:8480');
    if (faulty) return faulty;
    return receiver.handle({ method: request.method ?? 'GET', path: new URL(request.url).pathname, headers: lower(request.headers ?? {}), body: new TextEncoder().encode(request.body ?? '') });
  };
  const client = new ControlClient(host, controlSettings(config({ CONTROL_URL: 'http://127.0.0.1:8480', CONTROL_IDENTITY: 'no' }))!);
  const spool = new Spool(host, { dir: '/spool', maxBytes: spoolBytes, maxAgeMs: 86_400_000 }, silentLogger);
  const delivery = new Delivery(host, {
    client,
    spool,
    logger: silentLogger,
    hostId: 'host-1',
    status: async (spoolStatus) => ({ ...status(), spool: spoolStatus }),
    backoff: { baseMs: 1000, maxMs: 8000 },
    random: () => 0.5,
  });
  let taken = 0;
  const next = async () => {
    taken++;
    host.clock = new Date(host.clock.getTime() + 60_000);
    return delivery.deliver(sample(taken, host.clock));
  };
  return { host, receiver, received, state, spool, next, taken: () => taken };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

test('while the endpoint is down samples wait; when it is back each arrives once, in order', async () => {
  const { received, state, next, receiver } = setup();
  await next();
  state.fault = () => 'refused';
  for (let i = 0; i < 4; i++) {
    const result = await next();
    assert.equal(result.delivered, 0);
    assert.match(result.problem ?? '', /ECONNREFUSED/);
  }
  state.fault = (request) => (request.method === 'POST' ? { status: 503, headers: { 'retry-after': '1' }, body: new Uint8Array() } : null);
  await next();
  state.fault = () => null;
  const result = await next();
  assert.equal(result.spool.pendingSamples, 0);
  assert.deepEqual(received.map((s) => s.id), Array.from({ length: 7 }, (_, i) => sample(i + 1).id));
  assert.equal(receiver.counts.duplicates, 0);
});

test('deliveries back off exponentially after failures, honouring Retry-After', async () => {
  const { host, state, next } = setup();
  state.fault = () => 'refused';
  const first = await next();
  assert.equal(first.nextAttempt?.getTime(), host.clock.getTime() + 750, '1 s base with the jitter at 0.75');
  state.fault = () => ({ status: 429, headers: { 'retry-after': '600' }, body: new Uint8Array() });
  const attempts = host.httpCalls.length;
  const second = await next();
  assert.equal(second.nextAttempt?.getTime(), host.clock.getTime() + 600_000);
  await next();
  assert.equal(host.httpCalls.length, attempts + 1, 'no request before the Retry-After time');
});

test('a batch the endpoint rejects as invalid is dropped and counted, and the queue moves on', async () => {
  const { state, next, received } = setup();
  state.fault = () => 'refused';
  await next();
  state.fault = (request) => (JSON.parse(request.body ?? '{}').samples?.length === 2 ? { status: 422, headers: {}, body: new Uint8Array() } : null);
  const result = await next();
  assert.equal(result.spool.rejectedSamples, 2);
  state.fault = () => null;
  await next();
  assert.deepEqual(received.map((s) => s.id), [sample(3).id]);
});

test('HTTP 413 halves the replay batch until it fits', async () => {
  const { state, next, received } = setup();
  state.fault = () => 'refused';
  for (let i = 0; i < 4; i++) await next();
  state.fault = (request) => ((JSON.parse(request.body ?? '{}').samples?.length ?? 0) > 2 ? { status: 413, headers: {}, body: new Uint8Array() } : null);
  await next();
  assert.deepEqual(received.map((s) => s.id), [1, 2, 3, 4, 5].map((i) => sample(i).id));
});

test('a re-sent batch is recognised by its id and counted as duplicates', async () => {
  const { host, state, next, receiver } = setup();
  let lost = true;
  state.fault = (request) => {
    if (!lost) return null;
    lost = false;
    void receiver.handle({ method: 'POST', path: '/v1/samples', headers: lower(request.headers ?? {}), body: new TextEncoder().encode(request.body ?? '') });
    return { status: 502, headers: {}, body: new Uint8Array() }; // the endpoint stored it, the reply was lost
  };
  await next();
  host.clock = new Date(host.clock.getTime() + 10_000);
  const result = await next();
  assert.equal(result.duplicates, 1);
  assert.equal(receiver.counts.accepted, 2);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ControlClient } from '../../../src/control/client.ts';
import { Delivery, deliveryFailing, describeDelivery } from '../../../src/control/delivery.ts';
import { LIMITS, type SpoolStatus } from '../../../src/control/protocol.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import { controlSink } from '../../../src/control/sinks/control.ts';
import { Spool } from '../../../src/control/spool.ts';
import { SPOOL_MIN_BYTES } from '../../../src/core/config/keys.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { FakeHost, jsonResponse } from '../../support/fake-host.ts';
import { config, recordingLogger, sample, status, bodyText } from './fixtures.ts';

type Fault = (request: HttpRequest) => HttpResponse | 'refused' | null;

const URL_BASE = 'http://127.0.0.1:8480';
const EMPTY = new Uint8Array();

/** A Delivery to a reference Receiver on a FakeHost (its clock is the delivery's); `fault` may answer instead. */
function setup(spoolBytes = 2 ** 30, env: Record<string, string> = {}) {
  const host = new FakeHost();
  host.clock = new Date(Date.UTC(2026, 10, 22, 12, 0, 0));
  const received: Sample[] = [];
  const receiver = new Receiver({ token: null, onStored: async (_batch, fresh) => void received.push(...fresh) });
  const state: { fault: Fault } = { fault: () => null };
  host.http = async (request) => {
    host.httpCalls.push(request);
    const faulty = state.fault(request);
    if (faulty === 'refused') throw new Error('connect ECONNREFUSED 127.0.0.1:8480');
    if (faulty) return faulty;
    const body = new TextEncoder().encode(bodyText(request));
    const path = new URL(request.url).pathname;
    return receiver.handle({ method: request.method ?? 'GET', path, headers: lower(request.headers ?? {}), body });
  };
  const settings = controlSettings(config({ CONTROL_URL: URL_BASE, CONTROL_IDENTITY: 'no', ...env }));
  const client = new ControlClient(host, settings!);
  const spool = new Spool(host, { dir: '/spool', maxBytes: spoolBytes, maxAgeMs: 86_400_000 }, recordingLogger());
  const logger = recordingLogger();
  const withSpool = async (spoolStatus: SpoolStatus) => ({ ...status(), spool: spoolStatus });
  const sink = controlSink(host, { client, hostId: 'host-1', status: withSpool });
  const delivery = new Delivery({
    sink,
    spool,
    logger,
    backoff: { baseMs: 1000, maxMs: 8000, probeMs: 2000 },
    random: () => 0.5,
    clock: { now: () => host.clock.getTime(), sleep: async () => {} },
  });
  const accept = async (item: Sample) => {
    await spool.open();
    await spool.append([item]);
  };
  let taken = 0;
  const advance = (ms: number) => void (host.clock = new Date(host.clock.getTime() + ms));
  /** A minute later, one more sample, and a round. */
  const next = async (extra: Partial<Sample> = {}) => {
    taken++;
    advance(60_000);
    await accept({ ...sample(taken, host.clock), ...extra });
    return delivery.round();
  };
  const posts = () => host.httpCalls.filter((r) => r.method === 'POST');
  return { host, receiver, received, state, spool, delivery, logger, next, advance, posts, accept };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

function samplesIn(request: HttpRequest): Sample[] {
  return (JSON.parse(bodyText(request) || '{}') as { samples?: Sample[] }).samples ?? [];
}

const ids = (count: number, from = 1) => Array.from({ length: count }, (_, i) => sample(i + from).id);
const tooLarge: HttpResponse = {
  status: 413,
  headers: { 'content-type': 'text/html' },
  body: new TextEncoder().encode('<html>413 Request Entity Too Large</html>'),
};

test('while the endpoint is down samples wait; when it is back each arrives once, in order', async () => {
  const { received, state, next, receiver, advance } = setup();
  await next();
  state.fault = () => 'refused';
  for (let i = 0; i < 4; i++) {
    const result = await next();
    assert.equal(result.delivered, 0);
    assert.match(result.state.lastError ?? '', /ECONNREFUSED/);
  }
  const unavailable = { status: 503, headers: { 'retry-after': '1' }, body: EMPTY };
  state.fault = (request) => (request.method === 'POST' ? unavailable : null);
  await next();
  state.fault = () => null;
  advance(10_000);
  const result = await next();
  assert.equal(result.state.spool.pendingSamples, 0);
  assert.equal(result.state.consecutiveFailures, 0);
  assert.deepEqual(
    received.map((s) => s.id),
    ids(7),
  );
  assert.equal(receiver.counts.duplicates, 0);
});

test('deliveries back off exponentially, honouring Retry-After; a round inside the backoff sends nothing', async () => {
  const { host, state, next, posts } = setup();
  state.fault = () => 'refused';
  const first = await next();
  const expected = new Date(host.clock.getTime() + 750).toISOString();
  assert.equal(first.state.backingOffUntil, expected, '1 s base with the jitter at 0.75');
  state.fault = () => ({ status: 429, headers: { 'retry-after': '600' }, body: EMPTY });
  const attempts = posts().length;
  const second = await next();
  assert.equal(second.state.backingOffUntil, new Date(host.clock.getTime() + 600_000).toISOString());
  const third = await next();
  assert.equal(posts().length, attempts + 1, 'no request before the Retry-After time');
  assert.equal(third.tried, false);
  assert.equal(third.state.consecutiveFailures, 2);
  assert.equal(third.state.spool.pendingSamples, 3);
});

test('status tells the truth: failures, why, the backoff; "not tried", never "delivered 0 samples"', async () => {
  const { state, next, delivery, accept } = setup();
  await next();
  const ok = describeDelivery(delivery.state());
  assert.equal(ok, `delivery to ${URL_BASE}: ok, last delivered at 2026-11-22T12:01:00.000Z; 0 samples waiting`);
  assert.equal(deliveryFailing({ delivery: delivery.state() }), false);
  state.fault = () => 'refused';
  const failed = await next();
  assert.equal(
    describeDelivery(failed.state, true),
    `delivery to ${URL_BASE} failing (1 failed attempt in a row): ` +
      'POST /v1/samples failed: connect ECONNREFUSED 127.0.0.1:8480; ' +
      '1 sample waiting; next attempt not before 2026-11-22T12:02:00.750Z',
  );
  await accept(sample(99));
  const line = describeDelivery(delivery.state());
  assert.match(line, /failing \(1 failed attempt in a row\): .*ECONNREFUSED.*; 2 samples waiting; /);
  assert.match(line, /; not tried \(backing off until 2026-11-22T12:02:00\.750Z\)$/);
  assert.doesNotMatch(line, /delivered 0/);
  assert.equal(deliveryFailing({ delivery: delivery.state() }), true);
  assert.equal(deliveryFailing({ spool: {} }), false, 'an older status file without delivery details');
});

test('a batch refused as invalid is split: only the sample refused on its own is dropped and counted', async () => {
  const { state, next, received, logger } = setup();
  state.fault = () => 'refused';
  await next();
  await next();
  const invalid = jsonResponse(422, { error: 'invalid', problems: ['$.samples[0].cpu'] });
  state.fault = (request) => (samplesIn(request).some((s) => s.id === sample(2).id) ? invalid : null);
  const result = await next();
  assert.equal(result.state.spool.rejectedSamples, 1);
  assert.equal(result.state.spool.pendingSamples, 0);
  assert.deepEqual(
    received.map((s) => s.id),
    [sample(1).id, sample(3).id],
  );
  const refusal = /^error: the control endpoint http:\/\/127\.0\.0\.1:8480 refused a sample of \d+ bytes as invalid/;
  assert.ok(
    logger.lines.some((l) => refusal.test(l)),
    logger.lines.join('\n'),
  );
});

test('a 400 without a protocol error body (a proxy or WAF) drops nothing: the samples wait', async () => {
  const { state, next, received } = setup();
  const blocked = new TextEncoder().encode('<html>Request blocked</html>');
  state.fault = () => ({ status: 400, headers: { 'content-type': 'text/html' }, body: blocked });
  const result = await next();
  assert.equal(result.state.spool.rejectedSamples, 0);
  assert.equal(result.state.spool.pendingSamples, 1);
  assert.match(result.state.lastError ?? '', /without a protocol v1 error body/);
  state.fault = () => null;
  await next();
  assert.deepEqual(
    received.map((s) => s.id),
    ids(2),
  );
});

test('HTTP 413 halves the replay batch until it fits, and later batches start at the size that fitted', async () => {
  const { state, next, received, posts } = setup();
  state.fault = () => 'refused';
  for (let i = 0; i < 8; i++) await next();
  const sizes: number[] = [];
  state.fault = (request) => {
    sizes.push(samplesIn(request).length);
    return samplesIn(request).length > 2 ? tooLarge : null;
  };
  await next();
  assert.deepEqual(
    received.map((s) => s.id),
    ids(9),
  );
  assert.deepEqual(sizes, [9, 5, 3, 2, 1, 2, 2, 2], 'halved to 2, the sample refused by the proxy is not dropped');
  const before = posts().length;
  await next();
  await next();
  assert.equal(posts().length, before + 2);
});

test('413-always for single samples: nothing dropped, an error names the endpoint, delivered after', async () => {
  const { state, next, received, logger, advance } = setup();
  state.fault = () => tooLarge;
  for (let i = 0; i < 5; i++) {
    const result = await next();
    assert.equal(result.state.spool.rejectedSamples, 0);
    assert.equal(result.state.spool.droppedSamples, 0);
  }
  const errors = logger.lines.filter((l) => l.startsWith('error: '));
  assert.ok(errors.length > 0);
  for (const line of errors) {
    assert.match(line, /^error: control endpoint http:\/\/127\.0\.0\.1:8480: POST \/v1\/samples answered HTTP 413 /);
    assert.match(line, / single sample of \d+ bytes, within the protocol's maximum of 1048576 bytes: /);
    assert.match(line, /: a fault of the endpoint or of a proxy/);
    assert.match(line, /; \d samples? in the spool, kept; next attempt not before /);
  }
  state.fault = () => null;
  advance(60_000);
  const result = await next();
  assert.equal(result.state.consecutiveFailures, 0);
  assert.deepEqual(
    received.map((s) => s.id),
    ids(6),
  );
});

test('only a sample over the maximum refused with 413 is dropped, counted and logged as an error', async () => {
  const { state, next, received, logger } = setup();
  const errors = Array.from({ length: 300 }, () => ({ collector: 'disks', message: 'x'.repeat(4000) }));
  const big: Partial<Sample> = { errors };
  assert.ok(Buffer.byteLength(JSON.stringify({ ...sample(1), ...big })) > LIMITS.itemBytes);
  state.fault = (request) => (samplesIn(request).some((s) => s.errors.length > 0) ? tooLarge : null);
  await next();
  const result = await next(big);
  assert.equal(result.state.spool.rejectedSamples, 1);
  assert.equal(result.state.consecutiveFailures, 0);
  assert.deepEqual(
    received.map((s) => s.id),
    [sample(1).id],
  );
  const refusal = /^error: the control endpoint .* refused a sample of \d+ bytes as too large, and it is larger /;
  assert.ok(logger.lines.some((l) => refusal.test(l)));
});

test('a receipt for another batch is no receipt: the samples stay spooled and are sent again', async () => {
  const { state, next, received, receiver } = setup();
  const other = '00000000-0000-5000-8000-000000000000';
  state.fault = (request) => jsonResponse(200, { batchId: other, accepted: samplesIn(request).length, duplicates: 0 });
  const result = await next();
  assert.equal(result.state.spool.pendingSamples, 1);
  assert.match(result.state.lastError ?? '', /receipt of another batch/);
  state.fault = () => null;
  await next();
  assert.deepEqual(
    received.map((s) => s.id),
    ids(2),
  );
  assert.equal(receiver.counts.duplicates, 0);
});

test('a re-sent batch is recognised by its id and counted as duplicates', async () => {
  const { state, next, receiver, advance } = setup();
  let lost = true;
  state.fault = (request) => {
    if (!lost) return null;
    lost = false;
    const body = new TextEncoder().encode(bodyText(request));
    void receiver.handle({ method: 'POST', path: '/v1/samples', headers: lower(request.headers ?? {}), body });
    return { status: 502, headers: {}, body: EMPTY }; // the endpoint stored it, the reply was lost
  };
  await next();
  advance(10_000);
  const result = await next();
  assert.equal(result.duplicates, 1);
  assert.equal(receiver.counts.accepted, 2);
});

test('after the endpoint was away, a ping that answers ends the backoff; one ping per probeMs at most', async () => {
  const { host, state, next, delivery, advance } = setup();
  const pings = () => host.httpCalls.filter((r) => r.url.endsWith('/v1/ping')).length;
  state.fault = () => 'refused';
  for (let i = 0; i < 4; i++) await next(); // backoff now 8 s (the maximum) times the jitter: 6 s
  assert.equal(await delivery.probe(), false, 'not yet: the first ping is due probeMs × jitter after the failure');
  assert.equal(pings(), 0);
  advance(1500);
  assert.equal(await delivery.probe(), false, 'still refused');
  assert.equal(pings(), 1);
  assert.equal(await delivery.probe(), false);
  assert.equal(pings(), 1, 'no second ping within probeMs');
  state.fault = () => null;
  advance(1500);
  assert.ok(delivery.backingOff);
  assert.equal(await delivery.probe(), true, 'the endpoint answers the ping');
  assert.equal(delivery.backingOff, false);
  assert.equal((await delivery.round()).state.spool.pendingSamples, 0);
});

test('no ping cuts short a backoff after a reply a working ping does not change (413, 401, Retry-After)', async () => {
  const { host, state, next, delivery, advance } = setup();
  const later = { status: 503, headers: { 'retry-after': '5' }, body: EMPTY };
  for (const reply of [tooLarge, jsonResponse(401, { error: 'token' }), later]) {
    state.fault = (request) => (request.method === 'POST' ? reply : null);
    await next();
    advance(2000);
    assert.equal(await delivery.probe(), false);
  }
  assert.equal(host.httpCalls.filter((r) => r.url.endsWith('/v1/ping')).length, 0);
});

test('the spool minimum holds the largest sample the protocol allows, with its segment header', () => {
  assert.ok(SPOOL_MIN_BYTES >= LIMITS.itemBytes + 1024);
  const tooSmall = /SPOOL_MAX_BYTES="0" is smaller than the largest sample the spool must hold; allowed: .* 2M/;
  assert.throws(() => config({ SPOOL_MAX_BYTES: '0' }), tooSmall);
  assert.throws(() => config({ SPOOL_MAX_BYTES: '1M' }), /SPOOL_MAX_BYTES/);
  assert.equal(config({ SPOOL_MAX_BYTES: '2M' }).SPOOL_MAX_BYTES, SPOOL_MIN_BYTES);
});

test('a token file made unsafe meanwhile fails the attempt (an error, backed off), nothing lost', async () => {
  const token = '/etc/ecs-host-agent/control.token';
  const { host, next, received, logger } = setup(2 ** 30, { CONTROL_TOKEN_FILE: token });
  host.putFile(token, 't0k\n', 0o600);
  await next();
  host.putFile(token, 't0k\n', 0o644);
  await assert.rejects(next(), /CONTROL_TOKEN_FILE .* is mode 0644/);
  const failed = logger.lines.find((line) => line.startsWith('error: control endpoint')) ?? '';
  assert.match(failed, /is mode 0644 .*chmod 600 .*; 1 sample in the spool, kept; next attempt not before /);
  host.putFile(token, 't0k\n', 0o600);
  host.clock = new Date(host.clock.getTime() + 60_000);
  await next();
  assert.deepEqual(
    received.map((s) => s.id),
    ids(3),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ControlClient, probeControlEndpoint } from '../../../src/control/client.ts';
import { batchIdOf } from '../../../src/control/delivery.ts';
import {
  COMMAND_RETRIES,
  createEventReporter,
  DAEMON_RETRIES,
  EventOutbox,
  type EventInput,
} from '../../../src/control/events.ts';
import { eventsJob } from '../../../src/jobs/events.ts';
import { validate } from '../../../src/control/json-schema.ts';
import type { EventBatch, HostEvent } from '../../../src/control/protocol.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { eventBatchSchema, pongSchema } from '../../../src/control/schemas.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import type { Config } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { HttpResponse } from '../../../src/host/host.ts';
import { FakeHost, jsonResponse, textResponse } from '../../support/fake-host.ts';
import { config, recordingLogger, bodyText } from './fixtures.ts';

const TOKEN_FILE = '/etc/ecs-host-agent/control.token';
const SPOOL = '/var/lib/ecs-host-agent/spool/events';

function event(index: number, overrides: Partial<HostEvent> = {}): HostEvent {
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    type: 'decommission',
    time: '2026-11-22T12:00:00.000Z',
    outcome: 'drained',
    ok: true,
    message: 'arn:aws:ecs:… drained; deregistered',
    details: { deregistered: true },
    ...overrides,
  };
}

function eventBatch(...events: HostEvent[]): EventBatch {
  return { protocol: 1, batchId: batchIdOf(events), hostId: 'host-1', sentAt: '2026-11-22T12:00:01.000Z', events };
}

const DRAINED: EventInput = { type: 'decommission', outcome: 'drained', ok: true, message: 'drained', details: {} };

/** An endpoint on the FakeHost: stores event batches (by event id) while `up`, refuses connections otherwise. */
function fakeEndpoint(host: FakeHost, token = 's3cr3t') {
  const state = { up: true, received: [] as HostEvent[], requests: 0, reply: null as HttpResponse | null };
  host.onHttp((request) => {
    if (!state.up) return undefined;
    state.requests++;
    if (state.reply) return state.reply;
    if (request.headers?.authorization !== `Bearer ${token}`) return jsonResponse(401, { error: 'token' });
    if (request.url.endsWith('/v1/ping')) return jsonResponse(200, { protocol: 1 });
    const batch = JSON.parse(bodyText(request) || '{}') as EventBatch;
    const fresh = batch.events.filter((e) => !state.received.some((r) => r.id === e.id));
    state.received.push(...fresh);
    return jsonResponse(200, {
      batchId: batch.batchId,
      accepted: fresh.length,
      duplicates: batch.events.length - fresh.length,
    });
  });
  return state;
}

function controlConfig(extra: Record<string, string> = {}): Config {
  return config({
    CONTROL_URL: 'https://control.example',
    CONTROL_TOKEN_FILE: TOKEN_FILE,
    CONTROL_IDENTITY: 'no',
    ...extra,
  });
}

function hostWithToken(token = 's3cr3t'): FakeHost {
  const host = new FakeHost();
  host.putFile(TOKEN_FILE, `${token}\n`, 0o600);
  return host;
}

test('the events schema takes a batch of decommission and reboot events and refuses what does not fit', () => {
  assert.deepEqual(
    validate(eventBatchSchema, eventBatch(event(1), event(2, { type: 'reboot', outcome: 'rebooted' }))),
    [],
  );
  assert.match(
    validate(eventBatchSchema, eventBatch(event(1, { type: 'upgrade' as 'reboot' })))[0] ?? '',
    /\$\.events\[0\]\.type: expected one of "decommission", "reboot"/,
  );
  assert.match(
    validate(eventBatchSchema, eventBatch(event(1, { outcome: 'Drained OK' })))[0] ?? '',
    /\$\.events\[0\]\.outcome: .* does not match/,
  );
  assert.match(validate(eventBatchSchema, eventBatch(event(1, { id: 'one' })))[0] ?? '', /\$\.events\[0\]\.id/);
  assert.match(validate(eventBatchSchema, { ...eventBatch(event(1)), events: [] })[0] ?? '', /fewer than 1 items/);
  assert.deepEqual(validate(pongSchema, { protocol: 1, server: 'acme 2.1' }), [], 'endpoints may add to a pong');
  assert.match(validate(pongSchema, { protocol: 2 })[0] ?? '', /expected 1/);
});

test('events go to /v1/events with the token and the idempotency key; replies map like samples', async () => {
  const host = hostWithToken();
  const endpoint = fakeEndpoint(host);
  const client = new ControlClient(host, controlSettings(controlConfig())!);
  const batch = eventBatch(event(1));
  assert.deepEqual(await client.sendEvents(batch), {
    kind: 'delivered',
    receipt: { batchId: batch.batchId, accepted: 1, duplicates: 0 },
  });
  const request = host.httpCalls[0];
  assert.equal(request?.url, 'https://control.example/v1/events');
  assert.equal(request?.headers?.['idempotency-key'], batch.batchId);
  assert.equal(request?.ca, 'system');
  endpoint.reply = jsonResponse(422, { problems: ['$.events[0]'] });
  assert.equal((await client.sendEvents(batch)).kind, 'rejected');
  endpoint.reply = textResponse(503, 'busy');
  const busy = await client.sendEvents(batch);
  assert.equal(busy.kind, 'retry');
  assert.match(busy.kind === 'retry' ? busy.reason : '', /POST \/v1\/events answered HTTP 503/);
});

test(
  'probe: reachable with the right token; a wrong token, a 404, a refused connection or an odd ' +
    'reply fail with their fix',
  async () => {
    const host = hostWithToken();
    const endpoint = fakeEndpoint(host);
    const ok = await probeControlEndpoint(host, controlConfig());
    assert.deepEqual(ok, {
      reachable: true,
      evidence:
        `GET https://control.example/v1/ping answered ` +
        `HTTP 200 with the token from ${TOKEN_FILE}, TLS verified against the system CAs`,
    });
    assert.equal(host.httpCalls[0]?.method, 'GET', 'the probe changes nothing');

    host.putFile(TOKEN_FILE, 'wrong\n', 0o600);
    const refused = await probeControlEndpoint(host, controlConfig());
    assert.equal(refused.reachable, false);
    assert.match(refused.evidence, /HTTP 401 with the token from .*: the endpoint refused the credentials/);
    assert.match(refused.fix ?? '', /write the token the endpoint expects to \/etc\/ecs-host-agent\/control.token/);
    assert.doesNotMatch(JSON.stringify(refused), /wrong|s3cr3t/, 'no token is printed');

    endpoint.reply = jsonResponse(404, { error: 'no such resource' });
    assert.match((await probeControlEndpoint(host, controlConfig())).fix ?? '', /set CONTROL_URL to the base URL/);
    endpoint.reply = textResponse(200, '<html>');
    assert.match(
      (await probeControlEndpoint(host, controlConfig())).evidence,
      /not with a protocol v1 reply \(not application\/json\)/,
    );
    endpoint.up = false;
    const down = await probeControlEndpoint(host, controlConfig());
    assert.match(down.evidence, /GET https:\/\/control\.example\/v1\/ping failed: FakeHost: connection refused/);
    assert.match(down.fix ?? '', /outbound HTTPS/);

    host.putFile(TOKEN_FILE, 's3cr3t\n', 0o644);
    const unsafe = await probeControlEndpoint(host, controlConfig());
    assert.equal(unsafe.reachable, false);
    assert.match(unsafe.evidence, /chmod 600/);
  },
);

test('the reference receiver stores each event once by id, answers ping only with the token', async () => {
  const stored: HostEvent[] = [];
  const receiver = new Receiver({ token: 't0k', onStoredEvents: async (_batch, fresh) => void stored.push(...fresh) });
  const send = (batch: EventBatch, path = '/v1/events', method = 'POST') =>
    receiver.handle({
      method,
      path,
      headers: { 'content-type': 'application/json', 'idempotency-key': batch.batchId, authorization: 'Bearer t0k' },
      body: new TextEncoder().encode(JSON.stringify(batch)),
    });
  const body = (response: HttpResponse) => JSON.parse(Buffer.from(response.body).toString()) as unknown;
  const first = eventBatch(event(1), event(2));
  assert.deepEqual(body(await send(first)), { batchId: first.batchId, accepted: 2, duplicates: 0 });
  const again = eventBatch(event(2), event(3));
  assert.deepEqual(body(await send(again)), { batchId: again.batchId, accepted: 1, duplicates: 1 });
  assert.deepEqual(
    stored.map((e) => e.id),
    [event(1).id, event(2).id, event(3).id],
  );
  assert.equal((await send(eventBatch(event(4, { ok: 'yes' as unknown as boolean })))).status, 422);
  assert.equal((await send(first, '/v1/events', 'GET')).status, 405);
  const ping = (authorization: string) =>
    receiver.handle({ method: 'GET', path: '/v1/ping', headers: { authorization }, body: new Uint8Array() });
  assert.deepEqual(body(await ping('Bearer t0k')), { protocol: 1 });
  assert.equal((await ping('Bearer nope')).status, 401);
});

test(
  'an event is spooled before it is sent: a down endpoint gets bounded retries, the events job ' +
    'delivers it later, once',
  async () => {
    const host = hostWithToken();
    const endpoint = fakeEndpoint(host);
    endpoint.up = false;
    const reporter = await createEventReporter(host, controlConfig(), silentLogger, COMMAND_RETRIES);
    const result = await reporter.report(DRAINED);
    assert.equal(result.pending, 1);
    assert.match(result.problem ?? '', /connection refused/);
    assert.equal(host.httpCalls.length, COMMAND_RETRIES.attempts);
    assert.equal(host.slept, 2000 + 4000, 'waits 2 s, then 4 s');
    assert.equal(
      [...host.files.keys()].filter((path) => path.startsWith(`${SPOOL}/`) && path.endsWith('.seg')).length,
      1,
    );

    const context = { host, config: controlConfig(), logger: silentLogger } as unknown as Parameters<
      typeof eventsJob.run
    >[0];
    await assert.rejects(
      eventsJob.run(context),
      /1 host event\(s\) wait for the control endpoint: .*connection refused/,
    );
    endpoint.up = true;
    assert.equal((await eventsJob.run(context)).summary, 'delivered 1 host event(s)');
    assert.equal((await eventsJob.run(context)).summary, 'no host events waiting');
    assert.deepEqual(
      endpoint.received.map((e) => e.id),
      [result.event.id],
    );
    assert.equal(
      eventsJob.intervalMs({ ...context, config: config() } as Parameters<typeof eventsJob.intervalMs>[0]),
      null,
      'no job without CONTROL_URL',
    );
  },
);

test('the daemon tries once; an invalid event is dropped and counted, not retried forever', async () => {
  const host = hostWithToken();
  const endpoint = fakeEndpoint(host);
  endpoint.reply = textResponse(500, 'down');
  const reporter = await createEventReporter(host, controlConfig(), silentLogger, DAEMON_RETRIES);
  assert.equal((await reporter.report(DRAINED)).pending, 1);
  assert.equal(endpoint.requests, 1);
  assert.equal(host.slept, 0);
  endpoint.reply = jsonResponse(422, { problems: ['$.events[0].outcome'] });
  const outbox = await EventOutbox.create(host, controlConfig(), silentLogger);
  assert.deepEqual(await outbox?.flush(DAEMON_RETRIES), { delivered: 0, duplicates: 0, pending: 0, problem: null });
  assert.match(host.text(`${SPOOL}/counters.json`) ?? '', /"rejectedSamples":1/);
});

test('a 413 for one event of ordinary size keeps it, logs an error naming the endpoint; it arrives later', async () => {
  const host = hostWithToken();
  const endpoint = fakeEndpoint(host);
  endpoint.reply = textResponse(413, 'Request Entity Too Large');
  const logger = recordingLogger();
  const reporter = await createEventReporter(host, controlConfig(), logger, DAEMON_RETRIES);
  const result = await reporter.report(DRAINED);
  assert.equal(result.pending, 1);
  assert.match(result.problem ?? '', /HTTP 413 for a single event of \d+ bytes, within the protocol's maximum/);
  const error = 'error: control endpoint https://control.example: POST /v1/events answered HTTP 413';
  assert.ok(logger.lines.some((line) => line.startsWith(error)));
  assert.doesNotMatch(host.text(`${SPOOL}/counters.json`) ?? '', /"rejectedSamples":[1-9]/);
  endpoint.reply = null;
  const outbox = await EventOutbox.create(host, controlConfig(), silentLogger);
  assert.deepEqual(await outbox?.flush(DAEMON_RETRIES), { delivered: 1, duplicates: 0, pending: 0, problem: null });
  assert.deepEqual(
    endpoint.received.map((e) => e.id),
    [result.event.id],
  );
});

test('without CONTROL_URL an event goes to EVENTS_SINK_FILE as one JSON line', async () => {
  const host = new FakeHost();
  const reporter = await createEventReporter(
    host,
    config({ EVENTS_SINK_FILE: '/var/log/eha/events.ndjson' }),
    silentLogger,
  );
  const result = await reporter.report(DRAINED);
  assert.equal(result.destination, '/var/log/eha/events.ndjson');
  assert.deepEqual(JSON.parse(host.text('/var/log/eha/events.ndjson') ?? ''), result.event);
  assert.deepEqual(validate(eventBatchSchema, eventBatch(result.event)), [], 'what is recorded fits the protocol');
  assert.equal(host.httpCalls.length, 0);
});

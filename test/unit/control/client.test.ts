import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ControlClient, fetchUsersDocument, outcomeOf, parseRetryAfter } from '../../../src/control/client.ts';
import { batchIdOf } from '../../../src/control/delivery.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import type { HttpResponse } from '../../../src/host/host.ts';
import { FakeHost, jsonResponse, textResponse } from '../../support/fake-host.ts';
import { config, sample, status, bodyText } from './fixtures.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const BATCH_ID = batchIdOf([sample(1)]);

function reply(
  status: number,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): HttpResponse {
  return { status, headers, body: new TextEncoder().encode(body) };
}

test('replies of the endpoint map to delivered, retry (with Retry-After), rejected or too-large', () => {
  const receipt = JSON.stringify({ batchId: BATCH_ID, accepted: 1, duplicates: 0 });
  assert.equal(outcomeOf(reply(200, receipt), BATCH_ID, NOW).kind, 'delivered');
  const cases: Array<[HttpResponse, string, RegExp]> = [
    [reply(500, 'oops'), 'retry', /HTTP 500: "oops"/],
    [reply(429, '', { 'retry-after': '120' }), 'retry', /HTTP 429/],
    [reply(200, '{not json'), 'retry', /malformed JSON/],
    [reply(200, receipt, { 'content-type': 'text/html' }), 'retry', /content type "text\/html"/],
    [reply(200, JSON.stringify({ batchId: BATCH_ID })), 'retry', /does not fit the protocol: \$: missing accepted/],
    [
      reply(200, JSON.stringify({ batchId: batchIdOf([sample(2)]), accepted: 1, duplicates: 0 })),
      'retry',
      /receipt of another batch/,
    ],
    [reply(401, ''), 'retry', /CONTROL_TOKEN_FILE/],
    [reply(422, '{"problems":["$.x"]}'), 'rejected', /HTTP 422/],
    [reply(413, ''), 'too-large', /HTTP 413/],
  ];
  for (const [response, kind, reason] of cases) {
    const outcome = outcomeOf(response, BATCH_ID, NOW);
    assert.equal(outcome.kind, kind, JSON.stringify(outcome));
    assert.match('reason' in outcome ? outcome.reason : '', reason);
  }
  assert.deepEqual(outcomeOf(reply(429, '', { 'retry-after': '120' }), BATCH_ID, NOW), {
    kind: 'retry',
    reason: 'POST /v1/samples answered HTTP 429: ""',
    retryAfterMs: 120_000,
  });
});

test('Retry-After is read as seconds or a date, capped at an hour; nonsense is ignored', () => {
  assert.equal(parseRetryAfter('30', NOW), 30_000);
  assert.equal(parseRetryAfter('Sun, 22 Nov 2026 12:01:00 GMT', NOW), 60_000);
  assert.equal(parseRetryAfter('999999', NOW), 3_600_000);
  assert.equal(parseRetryAfter('soon', NOW), null);
  assert.equal(parseRetryAfter(undefined, NOW), null);
});

test('a batch goes out with the token, the idempotency key, a size cap and, for https, the system CAs', async () => {
  const host = new FakeHost();
  host.putFile('/etc/ecs-host-agent/control.token', 's3cr3t-token\n', 0o600);
  host.onHttp((request) => {
    const { batchId } = JSON.parse(bodyText(request) || '{}') as { batchId?: string };
    return jsonResponse(200, { batchId, accepted: 1, duplicates: 0 });
  });
  const settings = controlSettings(
    config({
      CONTROL_URL: 'https://control.example/',
      CONTROL_TOKEN_FILE: '/etc/ecs-host-agent/control.token',
      CONTROL_IDENTITY: 'no',
    }),
  );
  const client = new ControlClient(host, settings!);
  const batch = {
    protocol: 1 as const,
    batchId: BATCH_ID,
    hostId: 'h1',
    sentAt: NOW.toISOString(),
    samples: [sample(1)],
    status: status(),
  };
  assert.equal((await client.send(batch)).kind, 'delivered');
  const request = host.httpCalls[0];
  assert.equal(request?.url, 'https://control.example/v1/samples');
  assert.equal(request?.headers?.authorization, 'Bearer s3cr3t-token');
  assert.equal(request?.headers?.['idempotency-key'], BATCH_ID);
  assert.equal(request?.ca, 'system');
  assert.ok((request?.maxResponseBytes ?? Infinity) <= 65_536);
});

test('a connection failure is a retry, never an exception', async () => {
  const client = new ControlClient(
    new FakeHost(),
    controlSettings(config({ CONTROL_URL: 'http://127.0.0.1:9', CONTROL_IDENTITY: 'no' }))!,
  );
  const outcome = await client.send({
    protocol: 1,
    batchId: BATCH_ID,
    hostId: 'h1',
    sentAt: NOW.toISOString(),
    samples: [sample(1)],
    status: status(),
  });
  assert.equal(outcome.kind, 'retry');
  assert.match(outcome.kind === 'retry' ? outcome.reason : '', /connection refused/);
});

test('plain http is refused unless loopback or CONTROL_ALLOW_HTTP=yes', () => {
  assert.throws(
    () => controlSettings(config({ CONTROL_URL: 'http://control.example' })),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /plain http .* CONTROL_ALLOW_HTTP=yes/);
      return true;
    },
  );
  assert.ok(controlSettings(config({ CONTROL_URL: 'http://control.example', CONTROL_ALLOW_HTTP: 'yes' })));
  assert.ok(controlSettings(config({ CONTROL_URL: 'http://127.0.0.1:8480' })));
  assert.equal(controlSettings(config()), null);
});

test('the identity document and its signature ride in headers when IMDS answers; IMDS is asked once', async () => {
  const imds = 'http://127.0.0.1:1338';
  const host = new FakeHost().onHttp((request) => {
    if (request.url === `${imds}/latest/api/token`) return textResponse(200, 'tok');
    if (request.url === `${imds}/latest/dynamic/instance-identity/document`)
      return textResponse(200, '{"instanceId":"i-0123456789abcdef0"}');
    if (request.url === `${imds}/latest/dynamic/instance-identity/pkcs7`) return textResponse(200, 'MIAG\nCSqG\n');
    if (request.url.startsWith('http://127.0.0.1:8480/')) return jsonResponse(200, { users: [] });
    return undefined;
  });
  const settings = config({ CONTROL_URL: 'http://127.0.0.1:8480', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds });
  assert.deepEqual(await fetchUsersDocument(host, settings), { users: [] });
  const client = new ControlClient(host, controlSettings(settings)!);
  assert.deepEqual(await client.usersDocument(), { users: [] });
  const usersRequest = host.httpCalls.at(-1);
  assert.equal(usersRequest?.headers?.['x-ecs-host-identity-pkcs7'], 'MIAGCSqG');
  assert.equal(
    Buffer.from(usersRequest?.headers?.['x-ecs-host-identity-document'] ?? '', 'base64').toString(),
    '{"instanceId":"i-0123456789abcdef0"}',
  );
  assert.equal(await client.instanceId(), 'i-0123456789abcdef0');
  assert.equal(host.httpCalls.filter((r) => r.url.includes('instance-identity/document')).length, 2, 'once per client');
});

test('the users document: 404, errors and malformed JSON are clear errors', async () => {
  const answering = (response: HttpResponse) => new FakeHost().onHttp(() => response);
  const settings = config({ CONTROL_URL: 'http://127.0.0.1:8480', CONTROL_IDENTITY: 'no' });
  await assert.rejects(fetchUsersDocument(answering(reply(404, '')), settings), /no users document for this host/);
  await assert.rejects(fetchUsersDocument(answering(reply(500, 'down')), settings), /HTTP 500: "down"/);
  await assert.rejects(fetchUsersDocument(answering(reply(200, '{')), settings), /malformed JSON/);
  await assert.rejects(
    fetchUsersDocument(answering(reply(200, '{}', { 'content-type': 'text/plain' })), settings),
    /not application\/json/,
  );
  await assert.rejects(fetchUsersDocument(new FakeHost(), config()), (error: unknown) => error instanceof ConfigError);
});

test("only a protocol v1 refusal (a JSON error body) rejects a batch; a proxy's or WAF's 400 is retried", () => {
  assert.equal(outcomeOf(reply(400, '{"error":"invalid batch"}'), BATCH_ID, NOW).kind, 'rejected');
  assert.equal(outcomeOf(reply(422, '{"problems":["$.samples[0]"]}'), BATCH_ID, NOW).kind, 'rejected');
  const waf = reply(400, '<html>blocked</html>', { 'content-type': 'text/html' });
  for (const response of [waf, reply(400, ''), reply(422, '"no"')]) {
    const outcome = outcomeOf(response, BATCH_ID, NOW);
    assert.equal(outcome.kind, 'retry', JSON.stringify(outcome));
    assert.match(outcome.kind === 'retry' ? outcome.reason : '', /without a protocol v1 error body/);
  }
});

test("no reply from the endpoint itself (a gateway's 502/503/504 without Retry-After) is marked unreachable", () => {
  const unreachable = (response: HttpResponse) => {
    const outcome = outcomeOf(response, BATCH_ID, NOW);
    return outcome.kind === 'retry' && outcome.unreachable === true;
  };
  assert.ok(unreachable(reply(502, '')));
  assert.ok(unreachable(reply(503, '')));
  assert.ok(unreachable(reply(504, '')));
  assert.ok(!unreachable(reply(503, '', { 'retry-after': '30' })), 'the endpoint answered and said when');
  assert.ok(!unreachable(reply(500, 'boom')));
  assert.ok(!unreachable(reply(401, '')));
});

/** What Node 24 says for a self-signed endpoint (seen against a loopback server with an openssl certificate). */
const NODE_SELF_SIGNED =
  'self-signed certificate; if the root CA is installed locally, try running Node.js with --use-system-ca';

test("a certificate the agent does not trust points at CONTROL_CA_BUNDLE, not at Node's --use-system-ca", async () => {
  const host = new FakeHost();
  host.http = async () => {
    const error = new Error(NODE_SELF_SIGNED);
    throw Object.assign(error, { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  };
  const settings = controlSettings(config({ CONTROL_URL: 'https://control.example', CONTROL_IDENTITY: 'no' }));
  const client = new ControlClient(host, settings!);
  const sentAt = NOW.toISOString();
  const batch = {
    protocol: 1 as const,
    batchId: BATCH_ID,
    hostId: 'h1',
    sentAt,
    samples: [sample(1)],
    status: status(),
  };
  const outcome = await client.send(batch);
  assert.equal(outcome.kind, 'retry');
  const reason = outcome.kind === 'retry' ? outcome.reason : '';
  assert.match(reason, /^POST \/v1\/samples failed: self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); /);
  assert.match(reason, /; trust the endpoint's CA with CONTROL_CA_BUNDLE/);
  assert.doesNotMatch(reason, /use-system-ca|Node\.js/);
  const probe = await client.probe();
  assert.doesNotMatch(probe.evidence, /use-system-ca/);
  assert.match(probe.fix ?? '', /CONTROL_CA_BUNDLE/);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readToken } from '../../../src/control/auth.ts';
import { batchIdOf } from '../../../src/control/delivery.ts';
import { validate } from '../../../src/control/json-schema.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { batchSchema } from '../../../src/control/schemas.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import type { HttpResponse } from '../../../src/host/host.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { sample, status } from './fixtures.ts';

const TOKEN_FILE = '/etc/ecs-host-agent/control.token';

test('the token file must be readable by its owner only, and owned by root', async () => {
  const host = new FakeHost();
  host.putFile(TOKEN_FILE, 'abc.DEF-123\n', 0o600);
  assert.equal(await readToken(host, TOKEN_FILE), 'abc.DEF-123');
  for (const [mode, uid] of [
    [0o644, 0],
    [0o640, 0],
    [0o600, 1234],
  ] as const) {
    host.putFile(TOKEN_FILE, 'abc', mode, uid);
    await assert.rejects(readToken(host, TOKEN_FILE), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 78);
      assert.match(error.message, /fix: chown root:root \/etc\/ecs-host-agent\/control.token && chmod 600/);
      assert.doesNotMatch(error.message, /abc/, 'the token is never printed');
      return true;
    });
  }
  host.putFile(TOKEN_FILE, 'two words\n', 0o600);
  await assert.rejects(readToken(host, TOKEN_FILE), /does not hold one bearer token/);
  await assert.rejects(readToken(new FakeHost(), TOKEN_FILE), /does not exist/);
});

function post(receiver: Receiver, body: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
  const batchId = (body as { batchId?: string }).batchId ?? '';
  return receiver.handle({
    method: 'POST',
    path: '/v1/samples',
    headers: {
      'content-type': 'application/json',
      'idempotency-key': batchId,
      authorization: 'Bearer t0k',
      ...headers,
    },
    body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
  });
}

function batch(...indexes: number[]) {
  const samples = indexes.map((i) => sample(i));
  return {
    protocol: 1,
    batchId: batchIdOf(samples),
    hostId: 'host-1',
    sentAt: '2026-11-22T12:00:00.000Z',
    samples,
    status: status(),
  };
}

const json = (response: HttpResponse): unknown => JSON.parse(Buffer.from(response.body).toString());

test('the reference receiver accepts a valid batch once, by batch id and by sample id', async () => {
  const receiver = new Receiver({ token: 't0k' });
  const first = batch(1, 2);
  assert.deepEqual(validate(batchSchema, first), []);
  assert.deepEqual(json(await post(receiver, first)), { batchId: first.batchId, accepted: 2, duplicates: 0 });
  assert.deepEqual(json(await post(receiver, first)), { batchId: first.batchId, accepted: 0, duplicates: 2 });
  const overlapping = batch(2, 3);
  assert.deepEqual(json(await post(receiver, overlapping)), {
    batchId: overlapping.batchId,
    accepted: 1,
    duplicates: 1,
  });
});

test('the reference receiver refuses what does not fit the protocol, with the reason', async () => {
  const receiver = new Receiver({ token: 't0k' });
  assert.equal((await post(receiver, batch(1), { authorization: 'Bearer nope' })).status, 401);
  assert.equal((await post(receiver, '{', {})).status, 400);
  assert.equal((await post(receiver, batch(1), { 'content-type': 'text/plain' })).status, 415);
  assert.equal((await post(receiver, batch(1), { 'idempotency-key': 'other' })).status, 400);
  const bad = { ...batch(1), samples: [{ ...sample(1), cpu: { ...sample(1).cpu, user: 'high' } }] };
  const refused = await post(receiver, bad);
  assert.equal(refused.status, 422);
  assert.match(JSON.stringify(json(refused)), /\$\.samples\[0\]\.cpu\.user: expected number, got string/);
  const extra = await post(receiver, { ...batch(1), surprise: true });
  assert.match(JSON.stringify(json(extra)), /unexpected property \\"surprise\\"/);
  assert.equal(
    (await receiver.handle({ method: 'GET', path: '/v2/x', headers: {}, body: new Uint8Array() })).status,
    404,
  );
});

test('the reference receiver serves the users document, or 404 without one', async () => {
  const get = (receiver: Receiver) =>
    receiver.handle({
      method: 'GET',
      path: '/v1/users',
      headers: { authorization: 'Bearer t0k' },
      body: new Uint8Array(),
    });
  assert.equal((await get(new Receiver({ token: 't0k' }))).status, 404);
  const withUsers = new Receiver({ token: 't0k', usersDocument: async () => ({ users: [{ name: 'alice' }] }) });
  assert.deepEqual(json(await get(withUsers)), { users: [{ name: 'alice' }] });
});

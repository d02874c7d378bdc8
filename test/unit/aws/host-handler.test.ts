/**
 * The SDK's request handler that sends through Host.http: an AWS call reaches the Host signed and serialised by
 * the SDK, the Host's answer is the SDK's reply, and the Host's ways of failing are the SDK's (a timeout is
 * retried, a caller's abort is not).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { isAwsError } from '../../../src/aws/clients.ts';
import { createEcs } from '../../../src/aws/ecs.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { inputOf, targetOf } from '../../support/aws-json.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { useTestCredentials } from '../../support/test-credentials.ts';
import { ecsError, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';

const ENDPOINT = 'http://ecs.invalid';
const SETTINGS = { region: 'eu-west-1', ecsEndpoint: ENDPOINT, ssmEndpoint: null };
const CLUSTERS = { clusters: [{ clusterName: 'prod', status: 'ACTIVE' }], failures: [] };

test('an ECS call is a signed JSON POST through Host.http, and the Host answer is the reply', async () => {
  const host = new FakeHost();
  const ecs = scriptedEcs(() => ({ status: 200, body: CLUSTERS }), [], host);
  const reply = await ecs.describeClusters({ clusters: ['prod'] });
  assert.equal(reply.clusters?.[0]?.status, 'ACTIVE');
  const [request] = host.httpCalls;
  assert.equal(host.httpCalls.length, 1);
  assert.equal(request?.method, 'POST');
  assert.equal(request?.url, `${ENDPOINT}/`);
  assert.equal(targetOf(request), 'DescribeClusters');
  assert.deepEqual(inputOf(request), { clusters: ['prod'] });
  const authorization = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization');
  assert.match(String(authorization?.[1]), /^AWS4-HMAC-SHA256 Credential=testing\/\d{8}\/eu-west-1\/ecs\/aws4_request/);
  assert.equal(request.timeoutMs, 1000, "the client's bound on each request is the Host's timeout");
});

test("a service error keeps its name; the SDK's classes need not be loaded to tell it", async () => {
  const ecs = scriptedEcs(() => ecsError('ClusterNotFoundException', 'Cluster not found.'));
  const input = { cluster: 'ghost', containerInstances: ['x'] };
  const error = await ecs.describeContainerInstances(input).catch((e: unknown) => e);
  assert.ok(isAwsError(error, 'ClusterNotFoundException'), String(error));
  assert.equal(isAwsError(error, 'AccessDeniedException'), false);
});

test("the Host's timeout (ETIMEDOUT) is tried again, as the SDK's own handler's is; then the call fails", async () => {
  useTestCredentials();
  const host = new FakeHost().onHttp((request) => {
    // What the real Host's request rejects with when its timeoutMs passes.
    const message = `no complete reply from ${new URL(request.url).origin} within ${request.timeoutMs} ms`;
    throw Object.assign(new Error(message), { code: 'ETIMEDOUT' });
  });
  const ecs = createEcs(host, SETTINGS, { maxAttempts: 2, requestTimeoutMs: 500 });
  const error = await ecs.describeClusters({ clusters: ['prod'] }).catch((e: unknown) => e);
  assert.equal((error as Error).message, 'no complete reply from http://ecs.invalid within 500 ms');
  assert.equal(host.httpCalls.length, 2, 'tried again');
});

test("a refused connection keeps the Host's error (its code), which the SDK tries again", async () => {
  useTestCredentials();
  const host = new FakeHost();
  const ecs = createEcs(host, SETTINGS, { maxAttempts: 3, requestTimeoutMs: 500 });
  const refused = await ecs.describeClusters({ clusters: ['prod'] }).catch((e: unknown) => e);
  assert.match((refused as Error).message, /connection refused for POST http:\/\/ecs\.invalid\//);
  assert.equal(host.httpCalls.length, 1, "the fake Host's refusal has no errno code: not a transient error");
  const coded = new FakeHost().onHttp(() => {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  });
  const retried = createEcs(coded, SETTINGS, { maxAttempts: 3, requestTimeoutMs: 500 });
  await assert.rejects(retried.describeClusters({}), /ECONNREFUSED/);
  assert.equal(coded.httpCalls.length, 3);
});

test("the caller's abort ends the call at once, and it is not tried again", async () => {
  useTestCredentials();
  let release: () => void = () => {};
  const host = new FakeHost();
  const never: FakeHost['http'] = async (request) => {
    host.httpCalls.push(request);
    await new Promise<void>((resolve) => (release = resolve));
    throw new Error('released');
  };
  host.http = never;
  const ecs = createEcs(host, SETTINGS, { maxAttempts: 3, requestTimeoutMs: 60_000 });
  const controller = new AbortController();
  const call = ecs.describeClusters({ clusters: ['prod'] }, { abortSignal: controller.signal });
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort(new Error('doctor gave up'));
  const error = await call.catch((e: unknown) => e);
  assert.equal((error as Error).name, 'AbortError');
  assert.equal(((error as Error).cause as Error).message, 'doctor gave up');
  assert.equal(host.httpCalls.length, 1);
  release();
});

test('the real Host: a server that never answers is given up at the bound, and asked once more', async (t) => {
  useTestCredentials();
  const received: IncomingMessage[] = [];
  const server = createServer((request) => void received.push(request));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  t.after(() => server.closeAllConnections());
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const settings = { ...SETTINGS, ecsEndpoint: endpoint };
  const ecs = createEcs(new RealHost('/'), settings, { maxAttempts: 2, requestTimeoutMs: 200 });
  const error = await ecs.describeClusters({ clusters: ['prod'] }).catch((e: unknown) => e);
  assert.equal((error as NodeJS.ErrnoException).code, 'ETIMEDOUT', String(error));
  assert.match((error as Error).message, /^no complete reply from http:\/\/127\.0\.0\.1:\d+ within 200 ms$/);
  assert.equal(received.length, 2);
  assert.equal(received[0]?.headers['x-amz-target'], 'AmazonEC2ContainerServiceV20141113.DescribeClusters');
});

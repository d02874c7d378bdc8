import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { IntrospectionError } from '../../../src/ecs-agent/introspection.ts';
import { registrationOptions, RegistrationError, verifyRegistration } from '../../../src/ecs-agent/registration.ts';
import { FakeHost, jsonResponse, textResponse } from '../../support/fake-host.ts';
import { describedInstance, type EcsAnswer, type EcsCall, ecsError, scriptedEcs } from './scripted-ecs.ts';

const URL = 'http://127.0.0.1:51678';
const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const OPTIONS = { cluster: 'prod', introspectionUrl: URL, timeoutMs: 60_000, pollIntervalMs: 5000 };
const LOG = '/var/log/ecs/ecs-agent.log';

/** An agent whose n-th answer (from 0) is replies[n], the last one repeating; null is a refused connection. */
function agentAnswering(...replies: Array<object | null>): FakeHost {
  let polls = 0;
  return new FakeHost().onHttp((request) => {
    if (request.url !== `${URL}/v1/metadata`) return undefined;
    const reply = replies[Math.min(polls++, replies.length - 1)];
    return reply === null ? undefined : jsonResponse(200, reply);
  });
}

const registered = (cluster = 'prod') => ({
  Cluster: cluster,
  ContainerInstanceArn: ARN,
  Version: 'Amazon ECS Agent - v1.89.0',
});
const registering = { Cluster: 'prod', ContainerInstanceArn: null, Version: 'Amazon ECS Agent - v1.89.0' };

function ecsAnswering(...answers: EcsAnswer[]) {
  const calls: EcsCall[] = [];
  let described = 0;
  const ecs = scriptedEcs(() => answers[Math.min(described++, answers.length - 1)] as EcsAnswer, calls);
  return { ecs, calls };
}

async function failure(promise: Promise<unknown>): Promise<RegistrationError> {
  const error = await promise.then(
    () => assert.fail('expected a RegistrationError'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof RegistrationError, String(error));
  assert.equal(error.exitCode, 1);
  assert.ok(error.message.includes(LOG), `names the agent log: ${error.message}`);
  return error;
}

test('polls until the agent answers and registers, then confirms with ECS', async () => {
  const host = agentAnswering(null, null, registering, registered());
  const { ecs, calls } = ecsAnswering(describedInstance(ARN, 'ACTIVE', true));
  const registration = await verifyRegistration(host, ecs, OPTIONS);
  assert.deepEqual(registration, {
    cluster: 'prod',
    containerInstanceArn: ARN,
    agentVersion: 'Amazon ECS Agent - v1.89.0',
    status: 'ACTIVE',
    agentConnected: true,
  });
  assert.equal(host.httpCalls.length, 4);
  assert.deepEqual(calls, [
    { operation: 'DescribeContainerInstances', input: { cluster: 'prod', containerInstances: [ARN] } },
  ]);
});

test('an agent that reports the cluster by ARN is in the cluster of that name', async () => {
  const host = agentAnswering(registered('arn:aws:ecs:eu-west-1:123456789012:cluster/prod'));
  const registration = await verifyRegistration(
    host,
    ecsAnswering(describedInstance(ARN, 'ACTIVE', true)).ecs,
    OPTIONS,
  );
  assert.equal(registration.cluster, 'prod');
});

test('waits for ECS to report the agent connected, which lags registration', async () => {
  const { ecs, calls } = ecsAnswering(describedInstance(ARN, 'ACTIVE', false), describedInstance(ARN, 'ACTIVE', true));
  const registration = await verifyRegistration(agentAnswering(registered()), ecs, OPTIONS);
  assert.equal(registration.agentConnected, true);
  assert.equal(calls.length, 2);
});

test('an agent registered in another cluster: stale state or ECS_CLUSTER not read', async () => {
  const { ecs, calls } = ecsAnswering(describedInstance(ARN, 'ACTIVE', true));
  const error = await failure(verifyRegistration(agentAnswering(registered('default')), ecs, OPTIONS));
  assert.match(error.message, /registered in cluster "default", not "prod"/);
  assert.match(error.message, /\/var\/lib\/ecs\/data.*--reset-agent-state.*ECS_CLUSTER/);
  assert.equal(calls.length, 0, 'ECS is not asked about an instance of the wrong cluster');
});

test('an agent that never answers: not running, check the unit', async () => {
  const host = agentAnswering(null);
  const start = host.now().getTime();
  const error = await failure(verifyRegistration(host, ecsAnswering().ecs, OPTIONS));
  assert.match(error.message, /did not answer at http:\/\/127\.0\.0\.1:51678 within 1m \(.*connection refused.*\)/);
  assert.match(error.message, /systemctl status ecs.*amazon-ecs/);
  assert.equal(host.now().getTime() - start, OPTIONS.timeoutMs, 'gave up at the deadline (fake clock), not before');
});

test('an agent that answers but never gets an ARN: IAM, credentials or a missing cluster', async () => {
  const error = await failure(verifyRegistration(agentAnswering(registering), ecsAnswering().ecs, OPTIONS));
  assert.match(error.message, /has not registered in cluster "prod"/);
  assert.match(error.message, /ecs:RegisterContainerInstance/);
  assert.match(error.message, /hop limit/);
  assert.match(error.message, /only "default" is created automatically/);
});

test('a malformed introspection reply stops verification with a clear error', async () => {
  const host = new FakeHost().onHttp(() => textResponse(200, 'Welcome to nginx'));
  await assert.rejects(verifyRegistration(host, ecsAnswering().ecs, OPTIONS), (error: unknown) => {
    assert.ok(error instanceof IntrospectionError);
    assert.match(error.message, /is not JSON/);
    return true;
  });
});

test('ECS keeps reporting the agent disconnected', async () => {
  const error = await failure(
    verifyRegistration(
      agentAnswering(registered()),
      ecsAnswering(describedInstance(ARN, 'ACTIVE', false)).ecs,
      OPTIONS,
    ),
  );
  assert.match(error.message, /as not connected \(agentConnected false\)/);
});

test('a container instance that is not ACTIVE', async () => {
  const error = await failure(
    verifyRegistration(
      agentAnswering(registered()),
      ecsAnswering(describedInstance(ARN, 'DRAINING', true)).ecs,
      OPTIONS,
    ),
  );
  assert.match(error.message, /is DRAINING, not ACTIVE/);
});

test('a cluster ECS does not know fails at once', async () => {
  const { ecs, calls } = ecsAnswering(ecsError('ClusterNotFoundException', 'Cluster not found.'));
  const error = await failure(verifyRegistration(agentAnswering(registered()), ecs, OPTIONS));
  assert.match(error.message, /ECS has no cluster "prod".*create-cluster/);
  assert.equal(calls.length, 1);
});

test('a container instance ECS does not know: a stale registration', async () => {
  const missing = { status: 200, body: { containerInstances: [], failures: [{ arn: ARN, reason: 'MISSING' }] } };
  const error = await failure(verifyRegistration(agentAnswering(registered()), ecsAnswering(missing).ecs, OPTIONS));
  assert.match(error.message, /does not know container instance .* \(MISSING\).*--reset-agent-state/);
});

test('a DescribeContainerInstances reply without the instance or a failure is an error', async () => {
  const empty = { status: 200, body: { containerInstances: [], failures: [] } };
  await assert.rejects(
    verifyRegistration(agentAnswering(registered()), ecsAnswering(empty).ecs, OPTIONS),
    /returned neither/,
  );
  const partial = { status: 200, body: { containerInstances: [{ containerInstanceArn: ARN }], failures: [] } };
  await assert.rejects(
    verifyRegistration(agentAnswering(registered()), ecsAnswering(partial).ecs, OPTIONS),
    /without a status or agentConnected/,
  );
});

test('a refused DescribeContainerInstances names the permission', async () => {
  const denied = ecsError('AccessDeniedException', 'User is not authorized to perform: ecs:DescribeContainerInstances');
  await assert.rejects(
    verifyRegistration(agentAnswering(registered()), ecsAnswering(denied).ecs, OPTIONS),
    (error: unknown) => {
      assert.ok(error instanceof RegistrationError);
      assert.match(
        error.message,
        /DescribeContainerInstances failed: .*not authorized.*needs ecs:DescribeContainerInstances/,
      );
      return true;
    },
  );
});

test('options come from ECS_CLUSTER, INTROSPECTION_URL and REGISTRATION_TIMEOUT', () => {
  const defaults = registrationOptions(
    loadConfig({ file: 'agent.env', fileText: 'ECS_CLUSTER=prod\n', env: {}, flags: {} }),
  );
  assert.equal(defaults.cluster, 'prod');
  assert.equal(defaults.introspectionUrl, URL);
  assert.equal(defaults.timeoutMs, 300_000);
  const set = registrationOptions(
    loadConfig({
      file: 'agent.env',
      fileText: 'REGISTRATION_TIMEOUT=90s\nINTROSPECTION_URL=http://127.0.0.1:9999/\n',
      env: {},
      flags: {},
    }),
  );
  assert.equal(set.timeoutMs, 90_000);
  assert.equal(set.introspectionUrl, 'http://127.0.0.1:9999');
});

/**
 * `decommission --dry-run` (src/decommission/preview.ts): what would happen,
 * found with read calls only; the host is left untouched.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { previewDecommission } from '../../../src/decommission/preview.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import type { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { type EcsAnswer, type EcsCall, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/prod';
const SINK = '/var/log/ecs-host-agent/events.ndjson';
const READS = ['DescribeContainerInstances', 'ListTasks', 'DescribeTasks'];

function hostWithState(): FakeHost {
  const host = fakeHostFor('debian-12');
  host.putFile(
    '/var/lib/ecs/data/ecs_agent_data.json',
    JSON.stringify({ Data: { Cluster: 'prod', ContainerInstanceArn: ARN } }),
  );
  return host;
}

function busyInstance(call: EcsCall): EcsAnswer {
  if (call.operation === 'ListTasks') return { status: 200, body: { taskArns: [`${TASK}/aaa`, `${TASK}/bbb`] } };
  if (call.operation === 'DescribeTasks') {
    return {
      status: 200,
      body: {
        tasks: [
          {
            taskArn: `${TASK}/aaa`,
            taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/web:3',
            group: 'service:web',
          },
          {
            taskArn: `${TASK}/bbb`,
            taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/batch:1',
            group: 'family:batch',
            startedBy: 'nightly',
          },
        ],
      },
    };
  }
  return {
    status: 200,
    body: {
      containerInstances: [{ containerInstanceArn: ARN, status: 'ACTIVE', runningTasksCount: 2, pendingTasksCount: 1 }],
      failures: [],
    },
  };
}

async function preview(host: FakeHost, answer: (call: EcsCall) => EcsAnswer, calls: EcsCall[], deregister = true) {
  const config = loadConfig({ file: 'agent.env', fileText: 'ECS_CLUSTER=prod\n', env: {}, flags: {} });
  const deps = {
    host,
    config,
    os: await gatherOsFacts(host),
    logger: silentLogger,
    ecs: async () => scriptedEcs(answer, calls),
    reportTo: SINK,
  };
  return previewDecommission(deps, { deregister, timeoutMs: 60_000 });
}

test('a busy instance: its counts, the standalone task that would be left, and no change anywhere', async () => {
  const host = hostWithState();
  const calls: EcsCall[] = [];
  const result = await preview(host, busyInstance, calls);
  assert.deepEqual(result, {
    dryRun: true,
    instance: { cluster: 'prod', containerInstanceArn: ARN },
    foundIn: 'agent-state',
    status: 'ACTIVE',
    runningTasksCount: 2,
    pendingTasksCount: 1,
    standaloneTasks: [
      { taskArn: `${TASK}/bbb`, name: 'batch:1', group: 'family:batch', startedBy: 'nightly', standalone: true },
    ],
    drain:
      'would set it DRAINING (now ACTIVE) and wait; 1 standalone task(s) ECS will not move ' +
      'would be left when the timeout passes',
    wouldDeregister: true,
    wouldStop: 'ecs.service',
    agentStateEntries: 1,
    reportTo: SINK,
    timeoutMs: 60_000,
  });
  assert.deepEqual(
    calls.map((call) => call.operation),
    READS,
    'read calls only',
  );
  assert.deepEqual(calls[1]?.input, { cluster: 'prod', containerInstance: ARN, desiredStatus: 'RUNNING' });
  assert.deepEqual(host.writes, []);
  assert.deepEqual(host.commands(), []);
  assert.ok(host.files.has('/var/lib/ecs/data/ecs_agent_data.json'), 'the agent state stays');
});

test('an idle instance lists no tasks; without --deregister it would stay registered', async () => {
  const calls: EcsCall[] = [];
  const idle = () => ({
    status: 200,
    body: {
      containerInstances: [{ containerInstanceArn: ARN, status: 'DRAINING', runningTasksCount: 0 }],
      failures: [],
    },
  });
  const result = await preview(hostWithState(), idle, calls, false);
  assert.deepEqual(
    calls.map((call) => call.operation),
    ['DescribeContainerInstances'],
  );
  assert.equal(result.drain, 'would keep it DRAINING; no task to wait for');
  assert.equal(result.wouldDeregister, false);
});

test('the record of an interrupted run names the instance first', async () => {
  const host = hostWithState();
  host.putFile(
    '/var/lib/ecs-host-agent/decommission.json',
    JSON.stringify({ cluster: 'other', containerInstanceArn: ARN }),
  );
  const result = await preview(host, busyInstance, []);
  assert.deepEqual([result.instance?.cluster, result.foundIn], ['other', 'record']);
});

test('no instance known: ECS is not asked, nothing would be drained or deregistered', async () => {
  const calls: EcsCall[] = [];
  const result = await preview(fakeHostFor('debian-12'), busyInstance, calls);
  assert.deepEqual(calls, []);
  assert.equal(result.instance, null);
  assert.equal(result.foundIn, null);
  assert.equal(result.wouldDeregister, false);
  assert.equal(result.drain, 'would do nothing: no container instance is known to this host');
});

test('an instance ECS has deregistered already: nothing to drain or deregister', async () => {
  const calls: EcsCall[] = [];
  const inactive = () => ({
    status: 200,
    body: {
      containerInstances: [{ containerInstanceArn: ARN, status: 'INACTIVE', runningTasksCount: 0 }],
      failures: [],
    },
  });
  const result = await preview(hostWithState(), inactive, calls);
  assert.deepEqual(
    calls.map((call) => call.operation),
    ['DescribeContainerInstances'],
  );
  assert.equal(result.status, null);
  assert.equal(result.wouldDeregister, false);
  assert.equal(result.drain, `would do nothing: ${ARN} is deregistered already`);
});

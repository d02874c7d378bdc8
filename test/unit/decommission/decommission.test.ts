import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { decommission } from '../../../src/decommission/decommission.ts';
import { shutdownKind } from '../../../src/decommission/shutdown.ts';
import { createSpotInterruptionJob } from '../../../src/jobs/spot-interruption.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { type FakeHost, jsonResponse, textResponse } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { type EcsCall, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const IMDS = 'http://127.0.0.1:1338';

function systemdHost(): FakeHost {
  const host = fakeHostFor('debian-12');
  host.directories.add('/run/systemd/system');
  host.answer('systemctl', {});
  return host;
}

async function depsFor(
  host: FakeHost,
  calls: EcsCall[],
  instance: Record<string, unknown> = { status: 'ACTIVE', runningTasksCount: 0 },
) {
  const config = loadConfig({
    file: 'agent.env',
    fileText: `ECS_CLUSTER=prod\nAWS_EC2_METADATA_SERVICE_ENDPOINT=${IMDS}\n`,
    env: {},
    flags: {},
  });
  const ecs = scriptedEcs(
    () => ({ status: 200, body: { containerInstances: [{ containerInstanceArn: ARN, ...instance }], failures: [] } }),
    calls,
  );
  return { host, config, os: await gatherOsFacts(host), logger: silentLogger, ecs: async () => ecs, report: null };
}

test('the instance from the agent state: drained, ecs-init stopped, deregistered, state cleared', async () => {
  const host = systemdHost();
  host.putFile(
    '/var/lib/ecs/data/ecs_agent_data.json',
    JSON.stringify({ Data: { Cluster: 'prod', ContainerInstanceArn: ARN } }),
  );
  const calls: EcsCall[] = [];
  const outcome = await decommission(await depsFor(host, calls), {
    deregister: true,
    timeoutMs: 60_000,
    pollIntervalMs: 5000,
  });
  assert.deepEqual(
    calls.map((call) => call.operation),
    [
      'DescribeContainerInstances',
      'UpdateContainerInstancesState',
      'DescribeContainerInstances',
      'DeregisterContainerInstance',
    ],
  );
  assert.deepEqual(calls[3]?.input, { cluster: 'prod', containerInstance: ARN, force: false });
  assert.ok(host.commands().includes('systemctl stop -- ecs.service'));
  assert.deepEqual(await host.readdir('/var/lib/ecs/data'), []);
  assert.ok(
    host.writes.includes('/var/lib/ecs-host-agent/decommission.json'),
    'the instance is recorded before the first step',
  );
  assert.equal(host.files.has('/var/lib/ecs-host-agent/decommission.json'), false);
  assert.equal(outcome.drained, true);
});

test('nothing known to decommission: ecs-init is still stopped and the state cleared, ECS is not called', async () => {
  const host = systemdHost();
  const calls: EcsCall[] = [];
  const outcome = await decommission(await depsFor(host, calls), {
    deregister: true,
    timeoutMs: 1000,
    pollIntervalMs: 100,
  });
  assert.deepEqual(calls, []);
  assert.equal(outcome.instance, null);
  assert.equal(outcome.deregistered, false);
  assert.match(outcome.drain, /no container instance is known/);
});

test('an instance already INACTIVE is neither drained nor deregistered again', async () => {
  const host = systemdHost();
  host.putFile(
    '/var/lib/ecs-host-agent/decommission.json',
    JSON.stringify({ cluster: 'prod', containerInstanceArn: ARN }),
  );
  const calls: EcsCall[] = [];
  const outcome = await decommission(await depsFor(host, calls, { status: 'INACTIVE', runningTasksCount: 0 }), {
    deregister: true,
    timeoutMs: 1000,
    pollIntervalMs: 100,
  });
  assert.deepEqual(
    calls.map((call) => call.operation),
    ['DescribeContainerInstances'],
  );
  assert.equal(outcome.deregistered, true);
});

test("shutdown kind from systemd's job queue", async () => {
  const cases: [string, string][] = [
    ['1 reboot.target start waiting\n2 systemd-reboot.service start waiting\n', 'reboot'],
    ['7 poweroff.target start waiting\n', 'poweroff'],
    ['3 halt.target start waiting\n', 'poweroff'],
    ['', 'none'],
  ];
  for (const [jobs, kind] of cases) {
    const host = fakeHostFor('debian-12').answer('systemctl', { stdout: jobs }, ['list-jobs']);
    assert.equal(await shutdownKind(host), kind);
  }
});

test('spot interruption: nothing while IMDS has no notice; DRAINING once it announces one', async () => {
  const host = fakeHostFor('debian-12');
  let notice: string | null = null;
  host.onHttp((request) => {
    if (request.url === `${IMDS}/latest/api/token`) return textResponse(200, 'token');
    if (request.url === `${IMDS}/latest/meta-data/spot/instance-action`)
      return notice === null ? textResponse(404, '') : textResponse(200, notice);
    if (request.url === 'http://127.0.0.1:51678/v1/metadata')
      return jsonResponse(200, { Cluster: 'prod', ContainerInstanceArn: ARN, Version: 'v1' });
    return undefined;
  });
  const config = loadConfig({
    file: 'agent.env',
    fileText: `AWS_EC2_METADATA_SERVICE_ENDPOINT=${IMDS}\n`,
    env: {},
    flags: {},
  });
  const calls: EcsCall[] = [];
  const ecs = scriptedEcs(() => ({ status: 200, body: { containerInstances: [], failures: [] } }), calls);
  const job = createSpotInterruptionJob(async () => ecs);
  const context = {
    host,
    config,
    os: await gatherOsFacts(host),
    logger: silentLogger,
    resetAgentState: false,
    signal: new AbortController().signal,
  };
  assert.equal(job.intervalMs(context), 5000);
  assert.equal((await job.run(context)).summary, 'no spot interruption announced');
  assert.equal(calls.length, 0);
  notice = '{"action": "terminate", "time": "2026-11-22T12:02:00Z"}';
  assert.equal(
    (await job.run(context)).summary,
    `spot interruption announced (terminate at 2026-11-22T12:02:00Z): ${ARN} set DRAINING`,
  );
  assert.deepEqual(
    calls.map((call) => [call.operation, call.input.status]),
    [['UpdateContainerInstancesState', 'DRAINING']],
  );
  await job.run(context);
  assert.equal(calls.length, 1, 'drained once');
  assert.equal(job.intervalMs({ ...context, config: { ...config, SPOT_INTERRUPTION_DRAIN: false } }), null);
});

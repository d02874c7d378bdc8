/**
 * decommission against moto_server: drain then deregister, the timeout path
 * with a standalone task left, a run that crashes half-way, then converges
 * when run again, and the dry run that changes nothing. The host is a scratch root played as the instance
 * (its agent state, the record of the run); the ECS agent is the loopback
 * introspection stand-in.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test, type TestContext } from 'node:test';

import {
  DescribeContainerInstancesCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
} from '@aws-sdk/client-ecs';

import type { Ecs } from '../../../src/aws/ecs.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { decommission, type DecommissionDependencies } from '../../../src/decommission/decommission.ts';
import { previewDecommission } from '../../../src/decommission/preview.ts';
import { RECORD } from '../../../src/decommission/record.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { runCli } from '../../support/cli.ts';
import { metadataReply, startIntrospectionServer } from '../../support/introspection-server.ts';
import {
  createCluster,
  MOTO_REGION,
  type Moto,
  motoEcs,
  motoEcsClient,
  registerContainerInstance,
  startMoto,
} from '../../support/moto.ts';
import { FIXTURES } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';

let moto: Moto;
let ecs: ECSClient;
before(async () => {
  moto = await startMoto();
  ecs = motoEcsClient(moto);
});
after(() => moto?.stop());

interface Instance {
  readonly cluster: string;
  readonly arn: string;
  readonly root: string;
  /** ecs: the agent's ECS port, moto's through this instance's Host by default. */
  deps(ecs?: Ecs): Promise<DecommissionDependencies>;
}

/** A registered instance, its agent answering for it and its state on disk. */
async function registeredInstance(t: TestContext, cluster: string): Promise<Instance> {
  await createCluster(ecs, cluster);
  const arn = await registerContainerInstance(moto, ecs, cluster);
  const agent = await startIntrospectionServer(() => metadataReply(cluster, arn));
  t.after(() => agent.close());
  const root = scratchDir(t, 'eha-decommission-');
  cpSync(`${FIXTURES}/os/debian-12`, root, { recursive: true });
  mkdirSync(`${root}/var/lib/ecs/data`, { recursive: true });
  writeFileSync(
    `${root}/var/lib/ecs/data/ecs_agent_data.json`,
    JSON.stringify({ Data: { Cluster: cluster, ContainerInstanceArn: arn } }),
  );
  const host = new RealHost(root);
  const config = loadConfig({
    file: 'agent.env',
    fileText: null,
    env: { ECS_CLUSTER: cluster, INTROSPECTION_URL: agent.url },
    flags: {},
  });
  const os = await gatherOsFacts(host);
  return {
    cluster,
    arn,
    root,
    deps: async (agentEcs = motoEcs(moto, host)) => ({
      host,
      config,
      os,
      logger: silentLogger,
      ecs: async () => agentEcs,
      report: null,
    }),
  };
}

/** ECS shows a deregistered instance as INACTIVE for a while; moto forgets it at once (MISSING). */
async function statusOf(instance: Instance): Promise<{ status: string; running?: number }> {
  const reply = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster: instance.cluster, containerInstances: [instance.arn] }),
  );
  const found = reply.containerInstances?.[0];
  const status =
    found?.status === 'INACTIVE' || reply.failures?.[0]?.reason === 'MISSING'
      ? 'deregistered'
      : (found?.status ?? 'unknown');
  return { status, running: found?.runningTasksCount };
}

const OPTIONS = { deregister: true, timeoutMs: 60_000, pollIntervalMs: 10 };

async function startStandaloneTask(instance: Instance): Promise<string> {
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'batch',
      containerDefinitions: [{ name: 'job', image: 'busybox', memory: 64 }],
    }),
  );
  const started = await ecs.send(
    new StartTaskCommand({
      cluster: instance.cluster,
      taskDefinition: 'batch',
      containerInstances: [instance.arn],
      startedBy: 'nightly',
    }),
  );
  assert.equal((await statusOf(instance)).running, 1, 'moto counts the task on the instance');
  return started.tasks?.[0]?.taskArn ?? '';
}

test('drain then deregister: DRAINING with no tasks, deregistered, agent state cleared, no record left', async (t) => {
  const instance = await registeredInstance(t, 'decommission-clean');
  const reports: unknown[] = [];
  const deps = { ...(await instance.deps()), report: async (outcome: unknown) => void reports.push(outcome) };
  const outcome = await decommission(deps, OPTIONS);
  assert.deepEqual(outcome.instance, { cluster: instance.cluster, containerInstanceArn: instance.arn });
  assert.equal(outcome.drained, true);
  assert.equal(outcome.deregistered, true);
  assert.equal((await statusOf(instance)).status, 'deregistered');
  assert.deepEqual(readdirSync(`${instance.root}/var/lib/ecs/data`), []);
  assert.equal(existsSync(`${instance.root}${RECORD}`), false);
  assert.deepEqual(reports, [outcome], 'the outcome is reported');
});

test('timeout: a standalone task keeps the instance busy; it is named, and deregistration is forced', async (t) => {
  const instance = await registeredInstance(t, 'decommission-busy');
  await startStandaloneTask(instance);
  const outcome = await decommission(await instance.deps(), { ...OPTIONS, timeoutMs: 30 });
  assert.equal(outcome.drained, false);
  assert.match(outcome.drain, /1 task\(s\) still on the instance after 30ms; standalone tasks ECS will not move: /);
  assert.match(outcome.drain, /: batch:\d+ \([0-9a-f-]+, started by nightly\)/);
  assert.equal(outcome.deregistered, true);
  assert.equal((await statusOf(instance)).status, 'deregistered');
});

test('a run that crashes after draining converges when run again, even with the agent gone', async (t) => {
  const instance = await registeredInstance(t, 'decommission-crash');
  const flaky: Ecs = {
    ...motoEcs(moto),
    deregisterContainerInstance: async () => {
      throw new Error('connection reset (simulated crash)');
    },
  };
  await assert.rejects(
    decommission(await instance.deps(flaky), OPTIONS),
    /DeregisterContainerInstance .* failed: connection reset/,
  );
  assert.equal((await statusOf(instance)).status, 'DRAINING');
  assert.ok(existsSync(`${instance.root}${RECORD}`), 'the record names the instance for the next run');
  assert.ok(
    existsSync(`${instance.root}/var/lib/ecs/data/ecs_agent_data.json`),
    'the state is only cleared after deregistration',
  );

  const deps = await instance.deps();
  const again = await decommission(
    { ...deps, config: { ...deps.config, INTROSPECTION_URL: 'http://127.0.0.1:1' } },
    OPTIONS,
  );
  assert.equal(again.instance?.containerInstanceArn, instance.arn);
  assert.equal(again.deregistered, true);
  assert.equal((await statusOf(instance)).status, 'deregistered');
  assert.equal(existsSync(`${instance.root}${RECORD}`), false);

  const third = await decommission(deps, OPTIONS);
  assert.equal(third.instance?.containerInstanceArn, instance.arn, 'the stand-in agent still names it');
  assert.match(third.drain, /deregistered already|ECS does not know/);
});

test(
  'dry run: the instance, its task counts and the standalone task that would be left; it stays ' +
    'ACTIVE, nothing recorded or cleared',
  async (t) => {
    const instance = await registeredInstance(t, 'decommission-dry-run');
    const task = await startStandaloneTask(instance);
    const deps = await instance.deps();
    const preview = await previewDecommission(
      { ...deps, reportTo: deps.config.EVENTS_SINK_FILE },
      { deregister: true, timeoutMs: 60_000 },
    );
    assert.deepEqual(preview.instance, { cluster: instance.cluster, containerInstanceArn: instance.arn });
    assert.equal(preview.foundIn, 'ecs-agent');
    assert.deepEqual([preview.status, preview.runningTasksCount, preview.pendingTasksCount], ['ACTIVE', 1, 0]);
    assert.deepEqual(
      preview.standaloneTasks.map((left) => [left.taskArn, left.name.split(':')[0], left.startedBy]),
      [[task, 'batch', 'nightly']],
    );
    assert.equal(preview.wouldDeregister, true);
    assert.equal((await statusOf(instance)).status, 'ACTIVE');
    assert.equal(existsSync(`${instance.root}${RECORD}`), false, 'nothing recorded');
    assert.deepEqual(
      readdirSync(`${instance.root}/var/lib/ecs/data`),
      ['ecs_agent_data.json'],
      'the agent state stays',
    );
  },
);

test(
  'decommission --dry-run --json (the CLI): read calls only, the control endpoint hears nothing, ' +
    'the events sink is not written',
  async (t) => {
    const instance = await registeredInstance(t, 'decommission-dry-run-cli');
    const requests: string[] = [];
    const endpoint = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(500).end();
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    t.after(() => endpoint.close());
    const controlUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
    const sink = `${scratchDir(t)}/events.ndjson`;
    const env = {
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: MOTO_REGION,
      AWS_ENDPOINT_URL_ECS: moto.endpoint,
      INTROSPECTION_URL: (await instance.deps()).config.INTROSPECTION_URL,
      EVENTS_SINK_FILE: sink,
    };
    const recordedBefore = existsSync(RECORD);

    const json = await runCli(['decommission', '--dry-run', '--deregister', '--json'], {
      ...env,
      CONTROL_URL: controlUrl,
    });
    assert.equal(json.status, 0, json.stderr);
    const preview = JSON.parse(json.stdout);
    assert.equal(preview.dryRun, true);
    assert.deepEqual(preview.instance, { cluster: instance.cluster, containerInstanceArn: instance.arn });
    assert.deepEqual([preview.status, preview.runningTasksCount, preview.standaloneTasks], ['ACTIVE', 0, []]);
    assert.equal(preview.wouldDeregister, true);
    assert.equal(preview.reportTo, controlUrl);

    const text = await runCli(['decommission', '--dry-run'], env);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /^dry run: nothing was changed\n/);
    assert.ok(
      text.stdout.includes(`instance     ${instance.arn} (cluster "${instance.cluster}", found in ecs-agent)`),
      text.stdout,
    );
    assert.match(text.stdout, /\nderegister   no \(pass --deregister\)\n/);
    assert.ok(text.stdout.includes(`report to    ${sink}`), text.stdout);

    assert.equal((await statusOf(instance)).status, 'ACTIVE');
    assert.deepEqual(requests, [], 'nothing reported to the control endpoint');
    assert.equal(existsSync(sink), false, 'nothing written to the events sink');
    assert.equal(existsSync(RECORD), recordedBefore, 'no record written on this host');

    const both = await runCli(['decommission', '--dry-run', '--on-shutdown'], env);
    assert.equal(both.status, 2, both.stderr);
  },
);

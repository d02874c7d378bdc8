import assert from 'node:assert/strict';
import { test } from 'node:test';

import { agentState } from '../../../src/doctor/checks/agent-state.ts';
import { clusterExists } from '../../../src/doctor/checks/cluster.ts';
import { ecsConfig } from '../../../src/doctor/checks/ecs-config.ts';
import { ecsInit } from '../../../src/doctor/checks/ecs-init.ts';
import { introspection } from '../../../src/doctor/checks/introspection.ts';
import { jsonResponse } from '../../support/fake-host.ts';
import { ecsError, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';
import { ARN, CLUSTER, healthyHost, runCheck } from './fake-doctor.ts';

test('ecs-init: ok when installed and its unit runs; fail when missing or not enabled', async () => {
  const machine = healthyHost();
  assert.match(
    (await runCheck(ecsInit, machine.host)).evidence,
    /amazon-ecs-init 1\.89\.3-1 installed, ecs\.service enabled and running/,
  );
  machine.enabled.delete('ecs.service');
  const disabled = await runCheck(ecsInit, machine.host);
  assert.equal(disabled.verdict, 'fail');
  assert.match(disabled.fix ?? '', /systemctl enable --now --no-block ecs\.service/);
  machine.host.putFile('/var/lib/dpkg/status', '');
  assert.match((await runCheck(ecsInit, machine.host)).evidence, /ecs-init is not installed/);
});

test('ecs-config: ok when both readers agree on the cluster', async () => {
  const { host } = healthyHost();
  const evidence = 'ECS_CLUSTER=prod; systemd 252 and ecs-init read the same 2 keys';
  assert.deepEqual(await runCheck(ecsConfig, host), { verdict: 'ok', evidence });
});

test('ecs-config: fail when the readers disagree, naming the key; credentials stay redacted', async () => {
  const { host } = healthyHost();
  host.putFile('/etc/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\nECS_LOGLEVEL="debug"\nECS_ENGINE_AUTH_DATA="{}"\n`);
  const finding = await runCheck(ecsConfig, host);
  assert.equal(finding.verdict, 'fail');
  assert.match(finding.evidence, /ECS_LOGLEVEL: systemd 252 reads "debug", ecs-init reads "\\"debug\\""/);
  assert.match(finding.evidence, /ECS_ENGINE_AUTH_DATA: systemd 252 reads <redacted>, ecs-init reads <redacted>/);
});

test(
  'ecs-config: fail when missing, for another cluster, or without a cluster; ' +
    '/var/lib/ecs/ecs.config counts for ecs-init',
  async () => {
    const { host } = healthyHost();
    host.putFile('/etc/ecs/ecs.config', 'ECS_CLUSTER=staging\n');
    assert.match(
      (await runCheck(ecsConfig, host)).evidence,
      /ECS_CLUSTER is "staging" there, but the agent is configured for "prod"/,
    );

    host.putFile('/etc/ecs/ecs.config', 'ECS_LOGLEVEL=info\n');
    assert.match(
      (await runCheck(ecsConfig, host)).evidence,
      /sets no ECS_CLUSTER: the agent joins "default", not "prod"/,
    );

    host.putFile('/var/lib/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\n`);
    const fromDefaults = await runCheck(ecsConfig, host);
    assert.equal(
      fromDefaults.verdict,
      'fail',
      'systemd does not read /var/lib/ecs/ecs.config, so the readers disagree',
    );
    assert.match(fromDefaults.evidence, /ECS_CLUSTER: systemd 252 reads nothing, ecs-init reads "prod"/);

    host.files.delete('/etc/ecs/ecs.config');
    assert.match((await runCheck(ecsConfig, host)).evidence, /does not exist/);
  },
);

test('agent-state: ok without state or with state of this cluster; fail with state of another cluster', async () => {
  const { host } = healthyHost();
  assert.match((await runCheck(agentState, host)).evidence, /no saved agent state/);
  host.putFile(
    '/var/lib/ecs/data/ecs_agent_data.json',
    JSON.stringify({ Data: { Cluster: CLUSTER, ContainerInstanceArn: ARN } }),
  );
  assert.match((await runCheck(agentState, host)).evidence, /saved state of cluster "prod" for arn:aws:ecs/);
  host.putFile(
    '/var/lib/ecs/data/ecs_agent_data.json',
    JSON.stringify({ Data: { Cluster: 'old', ContainerInstanceArn: ARN } }),
  );
  const stale = await runCheck(agentState, host);
  assert.equal(stale.verdict, 'fail');
  assert.match(stale.fix ?? '', /--reset-agent-state/);
});

test('introspection: ok when registered in the cluster; fail when silent, elsewhere or unregistered', async () => {
  const { host } = healthyHost();
  let reply = { Cluster: CLUSTER, ContainerInstanceArn: ARN as string | null, Version: 'Amazon ECS Agent - v1.89.3' };
  host.onHttp((request) =>
    request.url === 'http://127.0.0.1:51678/v1/metadata' ? jsonResponse(200, reply) : undefined,
  );
  assert.deepEqual(await runCheck(introspection, host), {
    verdict: 'ok',
    evidence: `Amazon ECS Agent - v1.89.3 registered ${ARN}`,
  });

  reply = { ...reply, ContainerInstanceArn: null };
  assert.match((await runCheck(introspection, host)).evidence, /answers for cluster "prod" but has not registered/);

  reply = { ...reply, Cluster: 'other' };
  assert.match((await runCheck(introspection, host)).evidence, /reports cluster "other", not "prod"/);

  const silent = await runCheck(introspection, healthyHost().host);
  assert.equal(silent.verdict, 'fail');
  assert.match(silent.evidence, /does not answer at http:\/\/127\.0\.0\.1:51678/);
});

test(
  'cluster: ok when ACTIVE (and for "default", created on registration); fail when missing, ' +
    'INACTIVE or unreachable',
  async () => {
    const { host } = healthyHost();
    const describing = (clusters: unknown[], failures: unknown[] = []) =>
      scriptedEcs(() => ({ status: 200, body: { clusters, failures } }));
    const active = describing([{ clusterName: CLUSTER, status: 'ACTIVE', registeredContainerInstancesCount: 3 }]);
    assert.deepEqual(await runCheck(clusterExists, host, { ecsClient: active }), {
      verdict: 'ok',
      evidence: 'cluster "prod" is ACTIVE with 3 container instances',
    });

    const missing = await runCheck(clusterExists, host, {
      ecsClient: describing([], [{ arn: 'x', reason: 'MISSING' }]),
    });
    assert.equal(missing.verdict, 'fail');
    assert.match(missing.evidence, /ECS has no cluster "prod" \(MISSING\)/);
    assert.match(missing.fix ?? '', /aws ecs create-cluster --cluster-name prod/);

    assert.equal(
      (
        await runCheck(clusterExists, host, {
          ecsClient: describing([], [{ reason: 'MISSING' }]),
          agentEnv: 'ECS_CLUSTER=default\n',
        })
      ).verdict,
      'ok',
    );

    const inactive = await runCheck(clusterExists, host, {
      ecsClient: describing([{ clusterName: CLUSTER, status: 'INACTIVE' }]),
    });
    assert.match(inactive.evidence, /is INACTIVE/);

    const denied = await runCheck(clusterExists, host, {
      ecsClient: scriptedEcs(() => ecsError('AccessDeniedException', 'not authorized to perform ecs:DescribeClusters')),
    });
    assert.equal(denied.verdict, 'fail');
    assert.match(denied.evidence, /DescribeClusters failed: not authorized/);
  },
);

test('ecs-config: a line that hides another from this systemd is named, with what each reader sees', async () => {
  const { host } = healthyHost();
  host.putFile('/etc/ecs/ecs.config', `# note \\\nECS_CLUSTER=${CLUSTER}\n`);
  const hidden = await runCheck(ecsConfig, host);
  assert.equal(hidden.verdict, 'fail');
  assert.match(hidden.evidence, /ECS_CLUSTER: systemd 252 reads nothing, ecs-init reads "prod"/);
  assert.match(hidden.evidence, /ecs\.config:1: a comment ending in "\\", .*: systemd 252 reads line 2 as part of/);

  host.putFile('/etc/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\nX=1\rECS_OTHER=2\n# note \\\n# hidden comment\n`);
  const named = await runCheck(ecsConfig, host);
  assert.equal(named.verdict, 'fail', 'X and ECS_OTHER read differently');
  assert.match(named.evidence, /ECS_OTHER: systemd 252 reads "2", ecs-init reads nothing/);
  assert.match(named.evidence, /ecs\.config:2: CR \(carriage return\) inside the line/);

  host.putFile('/etc/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\n# note \\\n# hidden comment\n`);
  const warned = await runCheck(ecsConfig, host);
  assert.equal(warned.verdict, 'warn');
  assert.match(warned.evidence, /the readers agree, but hand-written lines hide others from systemd: .*:2: a comment/);

  host.putFile('/etc/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\n# x\0y\n`);
  const refused = (await runCheck(ecsConfig, host)).evidence;
  assert.match(refused, /ECS_CLUSTER: systemd 252 reads nothing \(it refuses the whole file\), ecs-init reads "prod"/);
  assert.match(refused, /ecs\.config:2: NUL byte: systemd 252 refuses the whole file/);
});

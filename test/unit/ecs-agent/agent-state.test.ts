import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readAgentState, staleStateProblem } from '../../../src/ecs-agent/agent-state.ts';
import { FakeHost } from '../../support/fake-host.ts';

const DATA = '/var/lib/ecs/data';
const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/staging/0123456789abcdef0123456789abcdef';
const SHORT_ARN = 'arn:aws:ecs:us-west-2:123456789012:container-instance/ea27e41b-c6e4-45a9-a7a0-484c95abece7';

/** The agent's older JSON state file, shaped like its own test data. */
function stateJson(cluster: string, arn: string): string {
  return JSON.stringify({
    Data: { Cluster: cluster, ContainerInstanceArn: arn, EC2InstanceID: 'i-0123', TaskEngine: { Tasks: [] } },
    Version: 24,
  });
}

/** Binary noise around BoltDB leaf entries: each key followed directly by its JSON-encoded value. */
function boltBlob(entries: Record<string, string>): Uint8Array {
  const noise = Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256);
  const parts = [noise];
  for (const [key, value] of Object.entries(entries))
    parts.push(new TextEncoder().encode(`${key}${JSON.stringify(value)}`), noise);
  return Buffer.concat(parts);
}

function withData(files: Record<string, string | Uint8Array>): FakeHost {
  const host = new FakeHost();
  for (const [name, data] of Object.entries(files)) host.putFile(`${DATA}/${name}`, data);
  return host;
}

test('no state directory, or an empty one, is no state', async () => {
  assert.equal(await readAgentState(new FakeHost()), null);
  const host = new FakeHost();
  await host.mkdir(DATA);
  assert.equal(await readAgentState(host), null);
});

test('the JSON state file of an older agent names its cluster and container instance', async () => {
  const state = await readAgentState(withData({ 'ecs_agent_data.json': stateJson('staging', SHORT_ARN) }));
  assert.deepEqual(state, {
    files: [`${DATA}/ecs_agent_data.json`],
    cluster: 'staging',
    containerInstanceArn: SHORT_ARN,
  });
});

test('state of another cluster is a problem, with the fix', async () => {
  const state = await readAgentState(withData({ 'ecs_agent_data.json': stateJson('staging', SHORT_ARN) }));
  const problem = staleStateProblem(state, 'prod', { imageRoot: false });
  assert.match(
    problem ?? '',
    /holds ECS agent state \(of cluster "staging" for container instance arn:.* in ecs_agent_data\.json\)/,
  );
  assert.match(problem ?? '', /ECS_CLUSTER is "prod"/);
  assert.match(problem ?? '', /ecs-host-agent apply --reset-agent-state/);
});

test('state of the configured cluster is fine on a host, by name or by ARN', async () => {
  const byName = await readAgentState(withData({ 'ecs_agent_data.json': stateJson('prod', SHORT_ARN) }));
  assert.equal(staleStateProblem(byName, 'prod', { imageRoot: false }), null);
  const byArn = await readAgentState(
    withData({ 'ecs_agent_data.json': stateJson('arn:aws:ecs:eu-west-1:123456789012:cluster/prod', SHORT_ARN) }),
  );
  assert.equal(staleStateProblem(byArn, 'prod', { imageRoot: false }), null);
  assert.equal(staleStateProblem(null, 'prod', { imageRoot: false }), null);
});

test('any state inside an image root being baked is a problem', async () => {
  const state = await readAgentState(withData({ 'ecs_agent_data.json': stateJson('prod', SHORT_ARN) }));
  assert.match(
    staleStateProblem(state, 'prod', { imageRoot: true }) ?? '',
    /in the image holds ECS agent state.*--reset-agent-state --root DIR/,
  );
});

test('agent.db: the cluster and ARN are found in the bytes of the metadata bucket', async () => {
  const blob = boltBlob({
    'agent-version': '1.89.0',
    'availability-zone': 'eu-west-1a',
    'cluster-name': 'staging',
    'container-instance-arn': ARN,
    'ec2-instance-id': 'i-0123',
  });
  const state = await readAgentState(withData({ 'agent.db': blob }));
  assert.deepEqual(state, { files: [`${DATA}/agent.db`], cluster: 'staging', containerInstanceArn: ARN });
  assert.match(staleStateProblem(state, 'prod', { imageRoot: false }) ?? '', /of cluster "staging".*in agent\.db/);
});

test('agent.db without a cluster-name entry: the cluster of a long-form ARN', async () => {
  const state = await readAgentState(withData({ 'agent.db': boltBlob({ 'container-instance-arn': ARN }) }));
  assert.equal(state?.cluster, 'staging');
});

test('agent.db without a cluster-name entry: a cluster ARN', async () => {
  const state = await readAgentState(
    withData({ 'agent.db': boltBlob({ task: 'arn:aws:ecs:eu-west-1:123456789012:cluster/staging' }) }),
  );
  assert.deepEqual(state, {
    files: [`${DATA}/agent.db`],
    cluster: 'arn:aws:ecs:eu-west-1:123456789012:cluster/staging',
    containerInstanceArn: null,
  });
});

test('agent.db is preferred to a leftover JSON file', async () => {
  const state = await readAgentState(
    withData({
      'agent.db': boltBlob({ 'cluster-name': 'prod' }),
      'ecs_agent_data.json': stateJson('staging', SHORT_ARN),
    }),
  );
  assert.deepEqual(state, {
    files: [`${DATA}/agent.db`, `${DATA}/ecs_agent_data.json`],
    cluster: 'prod',
    containerInstanceArn: SHORT_ARN,
  });
});

test('unreadable state is still state, but names no cluster', async () => {
  const state = await readAgentState(
    withData({ 'ecs_agent_data.json': '{"Data": ', 'agent.db': new Uint8Array([0, 1, 2, 3]) }),
  );
  assert.deepEqual(state, {
    files: [`${DATA}/agent.db`, `${DATA}/ecs_agent_data.json`],
    cluster: null,
    containerInstanceArn: null,
  });
  assert.equal(staleStateProblem(state, 'prod', { imageRoot: false }), null);
  assert.match(
    staleStateProblem(state, 'prod', { imageRoot: true }) ?? '',
    /holds ECS agent state \(in agent\.db, ecs_agent_data\.json\)/,
  );
});

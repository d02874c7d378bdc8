/**
 * verifyRegistration against real parts: moto_server for the ECS API and a
 * loopback HTTP server standing in for the agent's introspection API, reached
 * through the real Host. Timeouts are short so failures come quickly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { type ECSClient, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';

import type { Ecs } from '../../src/aws/ecs.ts';
import { RegistrationError, verifyRegistration } from '../../src/ecs-agent/registration.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { type IntrospectionServer, metadataReply, startIntrospectionServer } from '../support/introspection-server.ts';
import {
  createCluster,
  type Moto,
  motoEcs,
  motoEcsClient,
  registerContainerInstance,
  startMoto,
} from '../support/moto.ts';

const host = new RealHost('/');
const FAST = { timeoutMs: 2000, pollIntervalMs: 100 };

let moto: Moto;
let ecs: ECSClient;
/** What the agent calls ECS with. */
let agentEcs: Ecs;
const servers: IntrospectionServer[] = [];

before(async () => {
  moto = await startMoto();
  ecs = motoEcsClient(moto);
  agentEcs = motoEcs(moto, host);
  await createCluster(ecs, 'prod');
});

after(async () => {
  ecs?.destroy();
  await Promise.all(servers.map((server) => server.close()));
  await moto?.stop();
});

async function agent(respond: IntrospectionServer['respond']): Promise<IntrospectionServer> {
  const server = await startIntrospectionServer(respond);
  servers.push(server);
  return server;
}

test('an agent that registers after a few polls, confirmed by ECS', async () => {
  const arn = await registerContainerInstance(moto, ecs, 'prod');
  const server = await agent((before) => metadataReply('prod', before < 3 ? null : arn));
  const registration = await verifyRegistration(host, agentEcs, {
    cluster: 'prod',
    introspectionUrl: server.url,
    timeoutMs: 30_000,
    pollIntervalMs: 50,
  });
  assert.deepEqual(registration, {
    cluster: 'prod',
    containerInstanceArn: arn,
    agentVersion: 'Amazon ECS Agent - v1.99.0 (test)',
    status: 'ACTIVE',
    agentConnected: true,
  });
  assert.ok(server.requests >= 4);
});

test('an agent registered in another cluster', async () => {
  await createCluster(ecs, 'default');
  const arn = await registerContainerInstance(moto, ecs, 'default');
  const server = await agent(() => metadataReply('default', arn));
  await assert.rejects(
    verifyRegistration(host, agentEcs, { cluster: 'prod', introspectionUrl: server.url, ...FAST }),
    (error: unknown) => {
      assert.ok(error instanceof RegistrationError);
      assert.match(error.message, /registered in cluster "default", not "prod".*\/var\/log\/ecs\/ecs-agent\.log/);
      return true;
    },
  );
});

test('no agent answering: times out naming the unit and the log', async () => {
  const server = await agent(() => metadataReply('prod', null));
  const url = server.url;
  await server.close();
  await assert.rejects(
    verifyRegistration(host, agentEcs, { cluster: 'prod', introspectionUrl: url, ...FAST }),
    (error: unknown) => {
      assert.ok(error instanceof RegistrationError);
      assert.match(
        error.message,
        /did not answer .* within 2s \(.*ECONNREFUSED.*\).*systemctl status ecs.*\/var\/log\/ecs\/ecs-agent\.log/,
      );
      return true;
    },
  );
});

test('a cluster ECS does not know', async () => {
  const arn = await registerContainerInstance(moto, ecs, 'prod');
  const server = await agent(() => metadataReply('ghost', arn));
  await assert.rejects(
    verifyRegistration(host, agentEcs, { cluster: 'ghost', introspectionUrl: server.url, ...FAST }),
    /ECS has no cluster "ghost"/,
  );
});

test('a drained container instance is not ACTIVE', async () => {
  const arn = await registerContainerInstance(moto, ecs, 'prod');
  await ecs.send(
    new UpdateContainerInstancesStateCommand({ cluster: 'prod', containerInstances: [arn], status: 'DRAINING' }),
  );
  const server = await agent(() => metadataReply('prod', arn));
  await assert.rejects(
    verifyRegistration(host, agentEcs, { cluster: 'prod', introspectionUrl: server.url, ...FAST }),
    /is DRAINING, not ACTIVE/,
  );
});

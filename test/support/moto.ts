/**
 * moto_server on loopback: a real emulation of the ECS API for the SDK
 * clients. One server per test file; stop() kills it by PID. The SDK gets fake
 * credentials from this process's environment only, so it never looks for
 * real ones (or asks IMDS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { CreateClusterCommand, ECSClient, RegisterContainerInstanceCommand } from '@aws-sdk/client-ecs';

import type { AwsSettings } from '../../src/aws/region.ts';
import { createEcs, type Ecs } from '../../src/aws/ecs.ts';
import { createSsm, type Ssm } from '../../src/aws/ssm.ts';
import type { Host } from '../../src/host/host.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { useTestCredentials as useFakeKeys } from './test-credentials.ts';

export const MOTO_REGION = 'us-east-1';
/** moto's fixed account. */
export const MOTO_ACCOUNT = '123456789012';

const STARTUP_TIMEOUT_MS = 30_000;

export interface Moto {
  readonly endpoint: string;
  stop(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  requireMoto();
  useTestCredentials();
  const port = await freePort();
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    await stopChild(child);
  };
  try {
    await waitUntilAnswering(endpoint, child, () => stderr);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, stop };
}

/** Every service's endpoint at moto. */
export function motoSettings(moto: Moto): AwsSettings {
  const endpoint = moto.endpoint;
  return { region: MOTO_REGION, ecsEndpoint: endpoint, ssmEndpoint: endpoint, cloudWatchEndpoint: endpoint };
}

/** The agent's ECS port at moto, through host (the real one by default). */
export function motoEcs(moto: Moto, host: Host = new RealHost('/')): Ecs {
  return createEcs(host, motoSettings(moto));
}

/** The agent's SSM port at moto, through host (the real one by default). */
export function motoSsm(moto: Moto, host: Host = new RealHost('/')): Ssm {
  return createSsm(host, motoSettings(moto));
}

/** The tests' own SDK client, for what the agent never calls: making clusters, instances and tasks, reading them. */
export function motoEcsClient(moto: Moto): ECSClient {
  return new ECSClient({ region: MOTO_REGION, endpoint: moto.endpoint });
}

export async function createCluster(ecs: ECSClient, name: string): Promise<void> {
  await ecs.send(new CreateClusterCommand({ clusterName: name }));
}

/** What the agent does on first start; moto needs the EC2 instance named in the identity document to exist. */
export async function registerContainerInstance(moto: Moto, ecs: ECSClient, cluster: string): Promise<string> {
  const instanceId = await runEc2Instance(moto);
  const document = {
    instanceId,
    region: MOTO_REGION,
    accountId: MOTO_ACCOUNT,
    availabilityZone: `${MOTO_REGION}a`,
    architecture: 'x86_64',
    imageId: 'ami-0123456789abcdef0',
    instanceType: 't3.medium',
    privateIp: '10.0.0.10',
    pendingTime: new Date().toISOString(),
    version: '2017-09-30',
  };
  const reply = await ecs.send(
    new RegisterContainerInstanceCommand({
      cluster,
      instanceIdentityDocument: JSON.stringify(document),
      instanceIdentityDocumentSignature: Buffer.from('not-verified-by-moto').toString('base64'),
    }),
  );
  const arn = reply.containerInstance?.containerInstanceArn;
  if (!arn) throw new Error(`moto RegisterContainerInstance returned no ARN: ${JSON.stringify(reply)}`);
  return arn;
}

/**
 * The repo has no EC2 client, so RunInstances goes over EC2's query protocol; moto routes it by the credential scope.
 */
async function runEc2Instance(moto: Moto): Promise<string> {
  const response = await fetch(`${moto.endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization:
        `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/ec2/aws4_request, ` +
        `SignedHeaders=host, Signature=0`,
    },
    body: new URLSearchParams({
      Action: 'RunInstances',
      Version: '2016-11-15',
      ImageId: 'ami-0123456789abcdef0',
      MinCount: '1',
      MaxCount: '1',
    }),
  });
  const text = await response.text();
  const instanceId = /<instanceId>(i-[0-9a-f]+)<\/instanceId>/.exec(text)?.[1];
  if (!response.ok || !instanceId)
    throw new Error(`moto RunInstances failed (HTTP ${response.status}): ${text.slice(0, 500)}`);
  return instanceId;
}

function requireMoto(): void {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      'python3 cannot import moto (moto_server emulates ECS for these tests): install ' +
        'moto[server] 5.x for python3',
    );
  }
}

function useTestCredentials(): void {
  useFakeKeys();
  process.env.AWS_REGION = MOTO_REGION;
}

/** A port the kernel just handed out and released; moto binds it right after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port from the kernel');
  return address.port;
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const giveUp = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`moto_server exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await delay(100);
    }
  }
  throw new Error(`moto_server did not answer on ${endpoint} within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

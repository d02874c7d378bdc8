/**
 * doctor's checks against real counterparts on loopback: moto_server for ECS,
 * an IMDSv2 server, the introspection stand-in, HTTPS endpoints with a
 * self-signed certificate, a real dockerd; and the CLI as an operator runs it.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { CHECKS } from '../../../src/doctor/checks/index.ts';
import { clusterExists } from '../../../src/doctor/checks/cluster.ts';
import { dockerApi } from '../../../src/doctor/checks/docker-api.ts';
import { dockerStorageDriver } from '../../../src/doctor/checks/docker-storage-driver.ts';
import { imds } from '../../../src/doctor/checks/imds.ts';
import { instanceRole } from '../../../src/doctor/checks/instance-role.ts';
import { introspection } from '../../../src/doctor/checks/introspection.ts';
import { createDoctorContext } from '../../../src/doctor/context.ts';
import type { Report } from '../../../src/doctor/run.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { runCli } from '../../support/cli.ts';
import { startDockerd } from '../../support/dockerd.ts';
import { mountableScratch } from '../../support/loop-device.ts';
import { metadataReply, startIntrospectionServer } from '../../support/introspection-server.ts';
import { createCluster, MOTO_REGION, type Moto, motoEcsClient, startMoto } from '../../support/moto.ts';
import { scratchDir } from '../../support/scratch.ts';
import { type ImdsServer, selfSignedCertificate, startImds, startTlsEndpoint } from './loopback.ts';

const CLUSTER = 'doctor-test';
const ARN = `arn:aws:ecs:${MOTO_REGION}:123456789012:container-instance/${CLUSTER}/0123456789abcdef0123456789abcdef`;
const IDENTITY = {
  instanceId: 'i-0123456789abcdef0',
  region: MOTO_REGION,
  accountId: '123456789012',
  instanceType: 't3.small',
  imageId: 'ami-0123456789abcdef0',
};

let moto: Moto;
before(async () => {
  moto = await startMoto();
  await createCluster(motoEcsClient(moto), CLUSTER);
});
after(() => moto?.stop());

function imdsPaths(): Record<string, string> {
  return {
    '/latest/dynamic/instance-identity/document': JSON.stringify(IDENTITY),
    '/latest/meta-data/iam/security-credentials/': 'ecsInstanceRole',
    '/latest/meta-data/iam/security-credentials/ecsInstanceRole': JSON.stringify({
      Code: 'Success',
      AccessKeyId: 'ASIALOOPBACK',
      SecretAccessKey: 'loopback-secret',
      Token: 't',
      Expiration: new Date(Date.now() + 3_600_000).toISOString(),
    }),
  };
}

function agentEnv(server: ImdsServer, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ECS_CLUSTER: CLUSTER,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: server.url,
    AWS_ENDPOINT_URL_ECS: moto.endpoint,
    ...extra,
  };
}

function contextFor(env: Record<string, string>, dockerSocket?: string) {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return createDoctorContext({ host: new RealHost('/'), config, env: {}, ...(dockerSocket ? { dockerSocket } : {}) });
}

test('imds and instance-role read a loopback IMDSv2; the secret never shows', async (t) => {
  const server = await startImds(t, imdsPaths());
  const context = contextFor(agentEnv(server));
  const identity = await imds.run(context);
  assert.equal(identity.verdict, 'ok', identity.evidence);
  assert.match(identity.evidence, /instance i-0123456789abcdef0 \(t3\.small/);
  const role = await instanceRole.run(context);
  assert.equal(role.verdict, 'ok', role.evidence);
  assert.doesNotMatch(JSON.stringify(role), /ASIALOOPBACK|loopback-secret/);
  server.paths.delete('/latest/meta-data/iam/security-credentials/');
  assert.equal((await instanceRole.run(contextFor(agentEnv(server)))).verdict, 'fail');
});

test('cluster: DescribeClusters against moto finds the cluster, and not a missing one', async (t) => {
  const server = await startImds(t, imdsPaths());
  const found = await clusterExists.run(contextFor(agentEnv(server)));
  assert.deepEqual(found, { verdict: 'ok', evidence: `cluster "${CLUSTER}" is ACTIVE with 0 container instances` });
  const missing = await clusterExists.run(contextFor(agentEnv(server, { ECS_CLUSTER: 'nowhere' })));
  assert.equal(missing.verdict, 'fail');
  assert.match(missing.evidence, /ECS has no cluster "nowhere"/);
});

test('introspection: the agent stand-in answering for the cluster, then for another', async (t) => {
  const agent = await startIntrospectionServer(() => metadataReply(CLUSTER, ARN));
  t.after(() => agent.close());
  const server = await startImds(t, imdsPaths());
  const env = agentEnv(server, { INTROSPECTION_URL: agent.url });
  assert.equal((await introspection.run(contextFor(env))).verdict, 'ok');
  agent.respond = () => metadataReply('elsewhere', ARN);
  assert.match((await introspection.run(contextFor(env))).evidence, /reports cluster "elsewhere"/);
});

test('docker-api and docker-storage-driver ask a real dockerd on its own socket', async (t) => {
  const dockerd = await startDockerd(t, { dataRoot: mountableScratch(t, 'eha-doctor-docker-') });
  const socket = dockerd.endpoint.replace(/^unix:\/\//, '');
  const server = await startImds(t, imdsPaths());
  const api = await dockerApi.run(contextFor(agentEnv(server), socket));
  assert.equal(api.verdict, 'ok', api.evidence);
  assert.match(api.evidence, new RegExp(`answers on ${socket}`));
  const driver = await dockerStorageDriver.run(contextFor(agentEnv(server, { STORAGE_MODE: 'btrfs-file' }), socket));
  assert.equal(driver.verdict, 'fail', 'this daemon does not run on Btrfs');
  assert.match(driver.evidence, /wants btrfs/);
});

async function doctorCli(
  t: TestContext,
  extraEnv: Record<string, string>,
): Promise<{ status: number | null; reports: Report[] }> {
  const dir = scratchDir(t, 'eha-doctor-cli-');
  const server = await startImds(t, imdsPaths());
  const certificate = selfSignedCertificate(t);
  const s3 = await startTlsEndpoint(t, certificate);
  const ecr = await startTlsEndpoint(t, certificate);
  const agent = await startIntrospectionServer(() => metadataReply(CLUSTER, ARN));
  t.after(() => agent.close());
  const env = agentEnv(server, {
    AWS_ENDPOINT_URL_S3: s3.url,
    AWS_ENDPOINT_URL_ECR: ecr.url,
    INTROSPECTION_URL: agent.url,
  });
  mkdirSync(join(dir, 'etc'));
  writeFileSync(
    join(dir, 'etc', 'agent.env'),
    Object.entries(env)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(''),
  );
  const result = await runCli(['doctor', '--json', '--config', join(dir, 'etc', 'agent.env')], {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    NODE_EXTRA_CA_CERTS: certificate.certFile,
    ...extraEnv,
  });
  assert.equal(result.stderr.trim(), '', 'nothing logged');
  return { status: result.status, reports: (JSON.parse(result.stdout) as { checks: Report[] }).checks };
}

test(
  'the CLI lists every check as JSON; the AWS side passes on loopback; this machine fails ' + 'systemd, so exit 1',
  async (t) => {
    const { status, reports } = await doctorCli(t, {});
    assert.deepEqual(
      reports.map((report) => report.id),
      CHECKS.map((check) => check.id),
    );
    const verdict = (id: string) => reports.find((report) => report.id === id);
    for (const id of [
      'imds',
      'instance-role',
      'ecs-endpoint',
      's3-endpoint',
      'ecr-endpoint',
      'clock-skew',
      'cluster',
      'introspection',
      'control-endpoint',
    ]) {
      assert.equal(verdict(id)?.verdict, 'ok', `${id}: ${verdict(id)?.evidence}`);
    }
    assert.equal(verdict('systemd')?.verdict, 'fail');
    assert.equal(status, 1);
  },
);

test('the CLI honours HTTPS_PROXY: an unreachable proxy fails the TLS endpoints, NO_PROXY exempts one', async (t) => {
  const { reports } = await doctorCli(t, { HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: 'localhost' });
  const s3 = reports.find((report) => report.id === 's3-endpoint');
  assert.equal(s3?.verdict, 'fail');
  assert.match(s3?.evidence ?? '', /via the proxy 127\.0\.0\.1:1: TCP connect to 127\.0\.0\.1:1 failed/);
  const { reports: exempt } = await doctorCli(t, { HTTPS_PROXY: 'http://127.0.0.1:1', NO_PROXY: '127.0.0.1' });
  assert.equal(exempt.find((report) => report.id === 's3-endpoint')?.verdict, 'ok');
});

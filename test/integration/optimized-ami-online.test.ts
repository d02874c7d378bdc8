/**
 * The authoritative ECS-optimized check against moto_server's copy of the
 * public /aws/service/ecs/optimized-ami/ parameters, with a loopback IMDSv2.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';

import { loadConfig } from '../../src/core/config/load.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { checkOptimizedAmiOnline } from '../../src/os/optimized-online.ts';
import { MOTO_REGION, type Moto, motoSsm, startMoto } from '../support/moto.ts';

const AL2023 = { id: 'amzn', versionId: '2023', prettyName: 'Amazon Linux 2023' };
const TOKEN = 'imds-test-token';

let moto: Moto;
let imdsUrl: string;
let amiId = '';
const closeImds: (() => void)[] = [];

/** IMDSv2 only: reads without the session token are refused, as on an instance with IMDSv1 disabled. */
async function startImds(): Promise<string> {
  const server = createServer((request, response) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token') return void response.end(TOKEN);
    if (request.headers['x-aws-ec2-metadata-token'] !== TOKEN) return void response.writeHead(401).end();
    if (request.url === '/latest/meta-data/ami-id') return void response.end(amiId);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closeImds.push(() => server.close());
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

before(async () => {
  moto = await startMoto();
  imdsUrl = await startImds();
});
after(async () => {
  for (const close of closeImds) close();
  await moto?.stop();
});

function config(imds: string) {
  const env = { AWS_REGION: MOTO_REGION, AWS_ENDPOINT_URL_SSM: moto.endpoint, AWS_EC2_METADATA_SERVICE_ENDPOINT: imds };
  return loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
}

async function recommendedAmi(): Promise<string> {
  const name = '/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id';
  const reply = await motoSsm(moto).getParameter({ Name: name });
  return reply.Parameter?.Value ?? '';
}

test('an instance booted from an ECS-optimized AMI is recognised from the public SSM parameters', async () => {
  amiId = await recommendedAmi();
  assert.match(amiId, /^ami-[0-9a-f]+$/, 'moto serves the public parameters');
  const check = await checkOptimizedAmiOnline(new RealHost('/'), config(imdsUrl), AL2023);
  assert.match(
    check.evidence.join(),
    new RegExp(`AMI ${amiId} is listed in the public SSM parameter /aws/service/ecs/optimized-ami/amazon-linux-2023/`),
  );
});

test('a plain AMI is checked and not listed', async () => {
  amiId = 'ami-0123456789abcdef0';
  const check = await checkOptimizedAmiOnline(new RealHost('/'), config(imdsUrl), AL2023);
  assert.deepEqual(check.evidence, []);
  assert.match(check.note, /^checked: AMI ami-0123456789abcdef0 is not listed under/);
});

test('without IMDS the check is skipped and says why', async () => {
  const check = await checkOptimizedAmiOnline(new RealHost('/'), config('http://127.0.0.1:9'), AL2023);
  assert.deepEqual(check.evidence, []);
  assert.match(check.note, /^skipped: IMDS at http:\/\/127\.0\.0\.1:9 did not answer/);
});

test('a malformed ami-id from IMDS is not trusted', async () => {
  amiId = 'ami-<script>';
  const check = await checkOptimizedAmiOnline(new RealHost('/'), config(imdsUrl), AL2023);
  assert.match(check.note, /^skipped: IMDS returned an invalid ami-id/);
});

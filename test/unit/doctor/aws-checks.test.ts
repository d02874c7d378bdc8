/**
 * The doctor's AWS checks on the fake Host: the regional AWS names below are what the checks compute and hand to
 * the Host's TLS probe and HTTP, which the test answers itself; no socket is opened and nothing is resolved.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { clockSkew } from '../../../src/doctor/checks/clock-skew.ts';
import { ecrEndpoint } from '../../../src/doctor/checks/ecr-endpoint.ts';
import { ecsEndpoint } from '../../../src/doctor/checks/ecs-endpoint.ts';
import { imds } from '../../../src/doctor/checks/imds.ts';
import { instanceRole } from '../../../src/doctor/checks/instance-role.ts';
import { s3Endpoint } from '../../../src/doctor/checks/s3-endpoint.ts';
import { textResponse } from '../../support/fake-host.ts';
import { healthyHost, IDENTITY, runCheck } from './fake-doctor.ts';

test(
  'imds: ok with the identity; warn when AWS_REGION differs; fail when IMDS is silent or answers ' + 'nonsense',
  async () => {
    const machine = healthyHost();
    const ok = await runCheck(imds, machine.host);
    assert.equal(ok.verdict, 'ok');
    const instance = String.raw`instance i-0123456789abcdef0 \(t3\.medium, ami-0123456789abcdef0\)`;
    assert.match(ok.evidence, new RegExp(`${instance} of account 123456789012 in eu-west-1; token issued`));

    assert.equal((await runCheck(imds, machine.host, { agentEnv: 'AWS_REGION=us-east-1\n' })).verdict, 'warn');

    machine.imds.set('/latest/dynamic/instance-identity/document', JSON.stringify({ ...IDENTITY, instanceId: 'x' }));
    assert.match((await runCheck(imds, machine.host)).evidence, /no valid instanceId/);

    const silent = healthyHost();
    silent.host.httpHandlers.length = 0;
    const fail = await runCheck(imds, silent.host);
    assert.equal(fail.verdict, 'fail');
    assert.match(fail.evidence, /IMDS at http:\/\/127\.0\.0\.1:1338 did not answer/);
  },
);

test(
  'instance-role: ok with valid credentials, never printing them; fail without a role or with ' + 'expired credentials',
  async () => {
    const machine = healthyHost();
    const ok = await runCheck(instanceRole, machine.host);
    assert.deepEqual(ok, {
      verdict: 'ok',
      evidence: 'role ecsInstanceRole: credentials valid until 2026-11-22T18:00:00.000Z',
    });

    machine.host.clock = new Date('2026-11-23T00:00:00Z');
    assert.match((await runCheck(instanceRole, machine.host)).evidence, /expired at 2026-11-22T18:00:00\.000Z/);

    machine.imds.set(
      '/latest/meta-data/iam/security-credentials/ecsInstanceRole',
      JSON.stringify({ Code: 'AssumeRoleUnauthorizedAccess' }),
    );
    const unauthorized = await runCheck(instanceRole, machine.host);
    assert.match(
      unauthorized.evidence,
      /no usable credentials for role ecsInstanceRole \(Code "AssumeRoleUnauthorizedAccess"\)/,
    );

    machine.imds.delete('/latest/meta-data/iam/security-credentials/');
    const none = await runCheck(instanceRole, machine.host);
    assert.equal(none.verdict, 'fail');
    assert.match(none.fix ?? '', /AmazonEC2ContainerServiceforEC2Role/);
    for (const finding of [ok, unauthorized, none])
      assert.doesNotMatch(JSON.stringify(finding), /ASIAEXAMPLE|secret-never-printed/);
  },
);

test("endpoints: the regional names from the instance's region, TLS handshakes, overrides from config", async () => {
  const { host } = healthyHost();
  host.onTls(() => ({ protocol: 'TLSv1.3', certificateError: null }));
  assert.deepEqual(await runCheck(ecsEndpoint, host), {
    verdict: 'ok',
    evidence: 'ecs.eu-west-1.amazonaws.com:443 directly: TLS handshake done (TLSv1.3)',
  });
  assert.match((await runCheck(s3Endpoint, host)).evidence, /^s3\.eu-west-1\.amazonaws\.com:443 directly/);
  assert.match(
    (await runCheck(ecrEndpoint, host, { agentEnv: 'AWS_REGION=cn-north-1\n' })).evidence,
    /^api\.ecr\.cn-north-1\.amazonaws\.com\.cn:443/,
  );
  assert.match(
    (
      await runCheck(s3Endpoint, host, {
        agentEnv: 'AWS_ENDPOINT_URL_S3=https://bucket.vpce-1.s3.eu-west-1.vpce.amazonaws.com:8443\n',
      })
    ).evidence,
    /^bucket\.vpce-1\.s3\.eu-west-1\.vpce\.amazonaws\.com:8443/,
  );
  assert.ok(host.tlsCalls.every((call) => call.timeoutMs === 5000 && call.proxy === null));
});

test(
  'endpoints: fail naming the stage, or an untrusted certificate; without a region, say how to ' + 'set one',
  async () => {
    const { host } = healthyHost();
    const refused = await runCheck(ecsEndpoint, host);
    assert.equal(refused.verdict, 'fail');
    assert.match(refused.evidence, /TCP connect to ecs\.eu-west-1\.amazonaws\.com:443 failed/);
    assert.match(
      refused.fix ?? '',
      /security group.*HTTPS_PROXY in \/etc\/ecs\/ecs\.config \(AWS_ENDPOINT_URL_ECS overrides/,
    );

    host.onTls(() => ({ protocol: 'TLSv1.3', certificateError: 'SELF_SIGNED_CERT_IN_CHAIN' }));
    const intercepted = await runCheck(ecrEndpoint, host);
    assert.equal(intercepted.verdict, 'fail');
    assert.match(intercepted.evidence, /certificate is not trusted \(SELF_SIGNED_CERT_IN_CHAIN\)/);

    const noRegion = healthyHost();
    noRegion.imds.delete('/latest/dynamic/instance-identity/document');
    const unknown = await runCheck(s3Endpoint, noRegion.host);
    assert.match(unknown.evidence, /no region: AWS_REGION is not set/);
    assert.match(unknown.fix ?? '', /set AWS_REGION/);
  },
);

test(
  'endpoints: through the proxy of ecs.config (credentials not shown), unless NO_PROXY exempts ' + 'the host',
  async () => {
    const { host } = healthyHost();
    host.onTls(() => ({ protocol: 'TLSv1.2', certificateError: null }));
    host.putFile(
      '/etc/ecs/ecs.config',
      'ECS_CLUSTER=prod\nHTTP_PROXY=user:pw@127.0.0.1:3128\nNO_PROXY=127.0.0.1,.s3.eu-west-1.amazonaws.com\n',
    );
    const viaProxy = await runCheck(ecsEndpoint, host, { env: { HTTPS_PROXY: 'http://ignored:1' } });
    assert.equal(
      viaProxy.evidence,
      'ecs.eu-west-1.amazonaws.com:443 via the proxy 127.0.0.1:3128: TLS handshake done (TLSv1.2)',
    );
    assert.equal(host.tlsCalls.at(-1)?.proxy, 'http://user:pw@127.0.0.1:3128');
    assert.match((await runCheck(s3Endpoint, host)).evidence, /directly/);

    host.files.delete('/etc/ecs/ecs.config');
    assert.match(
      (await runCheck(ecsEndpoint, host, { env: { https_proxy: 'http://proxy.internal:8080' } })).evidence,
      /via the proxy proxy\.internal:8080/,
    );
  },
);

test('endpoints: an http:// override (an emulator) is checked with a plain request', async () => {
  const { host } = healthyHost();
  host.onHttp((request) => (request.url.startsWith('http://127.0.0.1:5000') ? textResponse(404, '') : undefined));
  const finding = await runCheck(ecsEndpoint, host, { agentEnv: 'AWS_ENDPOINT_URL_ECS=http://127.0.0.1:5000\n' });
  assert.deepEqual(finding, {
    verdict: 'ok',
    evidence: '127.0.0.1:5000 directly: answered HTTP 404 (plain HTTP, no TLS)',
  });
  assert.equal(
    (await runCheck(ecsEndpoint, host, { agentEnv: 'AWS_ENDPOINT_URL_ECS=http://127.0.0.1:5001\n' })).verdict,
    'fail',
  );
});

test('clock-skew: ok within 30 s, warn beyond, fail beyond 5 minutes; warn without a Date header', async () => {
  const { host } = healthyHost();
  let date: string | undefined = host.now().toUTCString();
  host.onHttp((request) =>
    request.url.startsWith('https://ecs.eu-west-1')
      ? { status: 404, headers: date === undefined ? {} : ({ date } as Record<string, string>), body: new Uint8Array() }
      : undefined,
  );
  assert.deepEqual(await runCheck(clockSkew, host), {
    verdict: 'ok',
    evidence: 'the host clock is 0 s ahead of ecs.eu-west-1.amazonaws.com',
  });
  date = new Date(host.now().getTime() + 90_000).toUTCString();
  const behind = await runCheck(clockSkew, host);
  assert.equal(behind.verdict, 'warn');
  assert.match(behind.evidence, /90 s behind/);
  date = new Date(host.now().getTime() - 600_000).toUTCString();
  assert.equal((await runCheck(clockSkew, host)).verdict, 'fail');
  date = undefined;
  assert.match((await runCheck(clockSkew, host)).evidence, /sent no Date header/);
});

/**
 * Host events and the ping against the reference receiver on a loopback port:
 * a decommission against moto_server reported exactly once although the
 * receiver was down at first, a reboot sequence's outcome reported from the
 * process that resumes it, and doctor's control check with the right and a
 * wrong token. The hosts are scratch roots; IMDS is never asked.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import type { ECSClient } from '@aws-sdk/client-ecs';

import { COMMAND_RETRIES, createEventReporter } from '../../../src/control/events.ts';
import { eventsJob } from '../../../src/jobs/events.ts';
import { probeControlEndpoint } from '../../../src/control/client.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { decommission } from '../../../src/decommission/decommission.ts';
import { reportDecommissionTo } from '../../../src/decommission/report.ts';
import { controlEndpoint } from '../../../src/doctor/checks/control-endpoint.ts';
import { createDoctorContext } from '../../../src/doctor/context.ts';
import type { Report } from '../../../src/doctor/run.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { runCli } from '../../support/cli.ts';
import { metadataReply, startIntrospectionServer } from '../../support/introspection-server.ts';
import {
  createCluster,
  type Moto,
  motoEcs,
  motoEcsClient,
  registerContainerInstance,
  startMoto,
} from '../../support/moto.ts';
import { FIXTURES } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';
import { startImds } from '../doctor/loopback.ts';
import { createBootedRoot, type SequenceSetup } from '../updates/moto-sequence.ts';
import { startEndpoint, type TestEndpoint } from './receiver-server.ts';

const TOKEN = 'integration-token-0123456789';
const TOKEN_FILE = '/etc/ecs-host-agent/control.token';
const DRIVER = fileURLToPath(new URL('../updates/sequence-driver.ts', import.meta.url));

/** moto_server (ECS and SSM) with a client for it, shared by the tests. */
let aws: { readonly moto: Moto; readonly ecs: ECSClient } | undefined;
before(async () => {
  const moto = await startMoto();
  aws = { moto, ecs: motoEcsClient(moto) };
});
after(() => aws?.moto.stop());

function motoAws(): { readonly moto: Moto; readonly ecs: ECSClient } {
  if (aws === undefined) throw new Error('moto_server did not start');
  return aws;
}

/** A scratch root holding the token file (root-only), as the host the agent runs on. */
function rootWithToken(t: TestContext, token = TOKEN): string {
  const root = scratchDir(t, 'eha-events-');
  mkdirSync(join(root, 'etc/ecs-host-agent'), { recursive: true });
  writeFileSync(join(root, TOKEN_FILE), `${token}\n`);
  chmodSync(join(root, TOKEN_FILE), 0o600);
  return root;
}

function controlEnv(endpoint: TestEndpoint): Record<string, string> {
  return {
    CONTROL_URL: endpoint.url,
    CONTROL_TOKEN_FILE: TOKEN_FILE,
    CONTROL_IDENTITY: 'no',
    SPOOL_DIR: '/var/lib/ecs-host-agent/spool',
  };
}

async function startedEndpoint(t: TestContext): Promise<TestEndpoint> {
  const endpoint = await startEndpoint(TOKEN);
  t.after(() => endpoint.stop());
  return endpoint;
}

/** A registered instance with its agent answering for it. */
async function registered(t: TestContext, cluster: string): Promise<{ arn: string; introspectionUrl: string }> {
  const { moto, ecs } = motoAws();
  await createCluster(ecs, cluster);
  const arn = await registerContainerInstance(moto, ecs, cluster);
  const agent = await startIntrospectionServer(() => metadataReply(cluster, arn));
  t.after(() => agent.close());
  return { arn, introspectionUrl: agent.url };
}

test(
  'decommission reports its outcome exactly once, although the receiver was down at first and a ' + 'reply got lost',
  async (t) => {
    const endpoint = await startedEndpoint(t);
    const { arn, introspectionUrl } = await registered(t, 'events-decommission');
    const root = rootWithToken(t);
    cpSync(`${FIXTURES}/os/debian-12`, root, { recursive: true });
    const host = new RealHost(root);
    const config = loadConfig({
      file: 'agent.env',
      fileText: null,
      env: { ...controlEnv(endpoint), ECS_CLUSTER: 'events-decommission', INTROSPECTION_URL: introspectionUrl },
      flags: {},
    });
    const reporter = await createEventReporter(host, config, silentLogger, { ...COMMAND_RETRIES, retryDelayMs: 1 });
    await endpoint.stop();

    const outcome = await decommission(
      {
        host,
        config,
        os: await gatherOsFacts(host),
        logger: silentLogger,
        ecs: async () => motoEcs(motoAws().moto, host),
        report: reportDecommissionTo(reporter),
      },
      { deregister: true, timeoutMs: 60_000, pollIntervalMs: 10 },
    );
    assert.equal(outcome.deregistered, true);

    await endpoint.start();
    let lostReplies = 0;
    endpoint.fault = async (request) => {
      if (!request.path.startsWith('/v1/events') || lostReplies++ > 0) return null;
      await endpoint.receiver.handle(request); // stored, but the agent never hears so
      return { status: 502, headers: {}, body: new Uint8Array() };
    };
    const context = { host, config, logger: silentLogger } as unknown as Parameters<typeof eventsJob.run>[0];
    await assert.rejects(eventsJob.run(context), /1 host event\(s\) wait .* HTTP 502/);
    assert.equal(
      (await eventsJob.run(context)).summary,
      'delivered 0 host event(s), 1 the endpoint already had',
      'the re-send is a duplicate',
    );
    assert.equal((await eventsJob.run(context)).summary, 'no host events waiting');

    assert.equal(endpoint.events.length, 1);
    const [event] = endpoint.events;
    assert.equal(event?.type, 'decommission');
    assert.equal(event?.outcome, 'drained');
    assert.equal(event?.ok, true);
    assert.deepEqual((event?.details as { instance: unknown }).instance, {
      cluster: 'events-decommission',
      containerInstanceArn: arn,
    });
    assert.equal(endpoint.receiver.counts.duplicateEvents, 1);
  },
);

function runDriver(
  setup: SequenceSetup,
  mode: 'run' | 'resume',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [DRIVER, mode],
      { env: { ...process.env, SEQUENCE_SETUP: JSON.stringify(setup) }, encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
}

test(
  "a reboot sequence's outcome reaches the receiver from the process that resumes it after the " + 'reboot',
  async (t) => {
    const endpoint = await startedEndpoint(t);
    const cluster = 'events-reboot';
    const { arn, introspectionUrl } = await registered(t, cluster);
    const setup: SequenceSetup = {
      root: createBootedRoot(rootWithToken(t)),
      endpoint: motoAws().moto.endpoint,
      introspectionUrl,
      cluster,
      containerInstanceArn: arn,
      instanceId: 'i-0123456789abcdef0',
      slots: 1,
      drainTimeoutMs: 30_000,
      drainTimeoutPolicy: 'abort',
      lockTtlMs: 3_600_000,
      controlEnv: controlEnv(endpoint),
    };

    const started = await runDriver(setup, 'run');
    assert.equal(JSON.parse(started.stdout).outcome, 'rebooting', started.stderr);
    assert.equal(endpoint.events.length, 0, 'nothing is reported before the sequence ends');
    const resumed = await runDriver(setup, 'resume');
    assert.equal(JSON.parse(resumed.stdout).outcome, 'rebooted', resumed.stderr);

    assert.equal(endpoint.events.length, 1);
    const [event] = endpoint.events;
    assert.deepEqual([event?.type, event?.outcome, event?.ok], ['reboot', 'rebooted', true]);
    assert.deepEqual((event?.details as { containerInstanceArn: string; reason: string }).containerInstanceArn, arn);
    assert.match(event?.message ?? '', /^rebooted for test: security updates need a reboot/);
  },
);

test("doctor's control check passes with the right token and fails with the fix when the token is wrong", async (t) => {
  const endpoint = await startedEndpoint(t);
  const check = async (root: string) => {
    const config = loadConfig({ file: 'agent.env', fileText: null, env: controlEnv(endpoint), flags: {} });
    const host = new RealHost(root);
    return controlEndpoint.run(
      createDoctorContext({ host, config, env: {}, controlProbe: (probed) => probeControlEndpoint(host, probed) }),
    );
  };
  const passed = await check(rootWithToken(t));
  assert.equal(passed.verdict, 'ok', passed.evidence);
  assert.match(
    passed.evidence,
    /\/v1\/ping answered HTTP 200 with the token from \/etc\/ecs-host-agent\/control.token/,
  );

  const refused = await check(rootWithToken(t, 'not-the-token'));
  assert.equal(refused.verdict, 'fail');
  assert.match(refused.evidence, /HTTP 401 .* the endpoint refused the credentials/);
  assert.equal(
    refused.fix,
    'write the token the endpoint expects to /etc/ecs-host-agent/control.token (one line, mode 0600)',
  );
  assert.equal(endpoint.receiver.counts.batches + endpoint.receiver.counts.events, 0, 'the probe stored nothing');
});

test('the doctor command probes the control endpoint with the configured token', async (t) => {
  const endpoint = await startedEndpoint(t);
  const dir = scratchDir(t, 'eha-events-doctor-');
  const tokenFile = join(dir, 'control.token');
  writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  const imds = await startImds(t, {});
  const nowhere = 'http://127.0.0.1:1';
  const env = {
    ...controlEnv(endpoint),
    CONTROL_TOKEN_FILE: tokenFile,
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    AWS_ENDPOINT_URL_ECS: nowhere,
    AWS_ENDPOINT_URL_S3: nowhere,
    AWS_ENDPOINT_URL_ECR: nowhere,
    INTROSPECTION_URL: nowhere,
  };
  writeFileSync(
    join(dir, 'agent.env'),
    Object.entries(env)
      .map(([key, value]) => `${key}=${value}\n`)
      .join(''),
  );
  const result = await runCli(['doctor', '--json', '--config', join(dir, 'agent.env')], {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
  });
  const control = (JSON.parse(result.stdout) as { checks: Report[] }).checks.find(
    (report) => report.id === 'control-endpoint',
  );
  assert.equal(control?.verdict, 'ok', `${control?.evidence} ${result.stderr}`);
  assert.equal(endpoint.receiver.counts.unauthorized, 0);
});

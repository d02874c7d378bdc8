import assert from 'node:assert/strict';
import { test } from 'node:test';

import { dockerConcern } from '../../../src/concerns/docker/index.ts';
import { ecsConcern } from '../../../src/concerns/ecs/index.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { renderSteps } from '../../../src/core/step.ts';
import type { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { concernContext } from '../../support/concern-context.ts';

async function contextFor(
  host: FakeHost,
  env: Record<string, string> = {},
  resetAgentState = false,
): Promise<ConcernContext> {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return concernContext(host, config, resetAgentState);
}

/** systemctl answers as on a machine without systemd as PID 1: units known but not enabled. */
function withSystemctl(host: FakeHost, enabledUnits: string[] = []): FakeHost {
  return host.onExec((file, args) => {
    if (file !== 'systemctl') return undefined;
    if (args[0] === 'is-enabled')
      return { exitCode: enabledUnits.includes(args.at(-1) as string) ? 0 : 1, stdout: '', stderr: '' };
    return { exitCode: 0, stdout: '', stderr: '' };
  });
}

async function planOf<F, A>(
  concern: { gather(c: ConcernContext): Promise<F>; plan(f: F, c: ConcernContext): A[] },
  context: ConcernContext,
): Promise<A[]> {
  return concern.plan(await concern.gather(context), context);
}

const DOCKER_INSTALLS: [string, string, RegExp][] = [
  ['amzn-2023', '/', /^dnf install -y -- docker$/],
  ['sles-15.5', '/', /^ZYPP_LOCK_TIMEOUT=300 zypper --non-interactive install --no-recommends -- docker$/],
  ['ubuntu-22.04', '/', /apt-get -o DPkg::Lock::Timeout=300 .*install -y --no-install-recommends -- docker\.io$/],
  ['amzn-2', '/img', /^amazon-linux-extras install -y docker$/],
];

for (const [fixture, root, command] of DOCKER_INSTALLS) {
  test(`docker on ${fixture}: installed the distribution's way, then enabled`, async () => {
    const context = await contextFor(withSystemctl(fakeHostFor(fixture, root)));
    const actions = await planOf(dockerConcern, context);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['install', 'start'],
    );
    assert.match(renderSteps(actions[0]?.steps ?? []).at(-1) ?? '', command);
    assert.match(
      actions[1]?.summary ?? '',
      root === '/'
        ? /^enable \(systemd is not PID 1: not started\) docker\.service$/
        : /^enable in the image \(not started\) docker\.service$/,
    );
  });
}

test('docker already installed and enabled: nothing to do', async () => {
  const host = withSystemctl(fakeHostFor('debian-12'), ['docker.service']);
  host.putFile('/var/lib/dpkg/status', 'Package: docker.io\nStatus: install ok installed\nVersion: 20.10.24\n');
  assert.deepEqual(await planOf(dockerConcern, await contextFor(host)), []);
});

test('with systemd as PID 1, units start without blocking (user-data must not deadlock on cloud-final)', async () => {
  const host = withSystemctl(fakeHostFor('amzn-2023'));
  host.directories.add('/run/systemd/system');
  const context = await contextFor(host);
  const start = (await planOf(dockerConcern, context)).find((action) => action.kind === 'start');
  assert.ok(start);
  await dockerConcern.apply(start, context);
  assert.deepEqual(host.commands().at(-1), 'systemctl enable --now --no-block -- docker.service');
});

test('ecs-init on SLES comes from zypper as amazon-ecs-init with the amazon-ecs unit', async () => {
  const actions = await planOf(ecsConcern, await contextFor(withSystemctl(fakeHostFor('sles-15.5'))));
  assert.deepEqual(
    actions.map((a) => a.summary),
    ['install ecs-init (amazon-ecs-init)', 'enable (systemd is not PID 1: not started) amazon-ecs.service'],
  );
});

test('ecs-init on Ubuntu is the signed .deb of the configured region and version', async () => {
  const host = withSystemctl(fakeHostFor('ubuntu-24.04'));
  host.putFile('/bin/sh', new Uint8Array([0x7f, 0x45, 0x4c, 0x46, ...new Array(14).fill(0), 0xb7, 0]));
  const [install] = await planOf(
    ecsConcern,
    await contextFor(host, { AWS_REGION: 'eu-west-1', ECSINIT_VERSION: '1.89.3-1' }),
  );
  const [download, verify] = renderSteps(install?.steps ?? []);
  const deb = 'https://s3.eu-west-1.amazonaws.com/amazon-ecs-agent-eu-west-1/amazon-ecs-init-1.89.3-1.arm64.deb';
  assert.equal(download, `download ${deb} and ${deb}.asc`);
  assert.match(verify ?? '', /Amazon ECS key F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F/);
});

test('stale agent state of another cluster is reported with the fix, and cleared on request', async () => {
  const host = withSystemctl(fakeHostFor('amzn-2023'), ['ecs.service']);
  host.putFile(
    '/var/lib/ecs/data/ecs_agent_data.json',
    JSON.stringify({
      Data: {
        Cluster: 'old-cluster',
        ContainerInstanceArn:
          'arn:aws:ecs:eu-west-1:123456789012:container-instance/old-cluster/0123456789abcdef0123456789abcdef',
      },
    }),
  );
  const context = await contextFor(host, { ECS_CLUSTER: 'prod' });
  const facts = await ecsConcern.gather(context);
  assert.match(ecsConcern.warnings?.(facts, context).join('\n') ?? '', /old-cluster.*--reset-agent-state/s);
  assert.equal(
    ecsConcern.plan(facts, context).some((a) => a.kind === 'reset-state'),
    false,
    'not cleared unless asked',
  );

  const resetting = { ...context, resetAgentState: true };
  const reset = ecsConcern.plan(await ecsConcern.gather(resetting), resetting).find((a) => a.kind === 'reset-state');
  assert.ok(reset);
  await ecsConcern.apply(reset, resetting);
  assert.deepEqual(await host.readdir('/var/lib/ecs/data'), []);
});

test('an image root being baked always has its agent state cleared', async () => {
  const host = withSystemctl(fakeHostFor('amzn-2023', '/img'), ['ecs.service']);
  host.putFile('/var/lib/ecs/data/agent.db', 'bolt');
  const actions = await planOf(ecsConcern, await contextFor(host));
  assert.equal(actions[0]?.kind, 'reset-state');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cgroups } from '../../../src/doctor/checks/cgroups.ts';
import { ecsOptimized } from '../../../src/doctor/checks/ecs-optimized.ts';
import { osSupport } from '../../../src/doctor/checks/os-support.ts';
import { systemd } from '../../../src/doctor/checks/systemd.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { healthyHost, runCheck } from './fake-doctor.ts';

test('os-support: ok on Debian 12, fail on a refused release and on an unidentifiable system', async () => {
  const ok = await runCheck(osSupport, healthyHost().host);
  assert.equal(ok.verdict, 'ok');
  assert.match(ok.evidence, /Debian GNU\/Linux 12.*packages with apt/);

  const old = await runCheck(osSupport, fakeHostFor('ubuntu-18.04'));
  assert.equal(old.verdict, 'fail');
  assert.match(old.evidence, /Ubuntu 18\.04 is past standard support/);
  assert.match(old.fix ?? '', /Amazon Linux 2023/);

  const al2 = await runCheck(osSupport, fakeHostFor('amzn-2'));
  assert.equal(al2.verdict, 'fail');
  assert.match(al2.evidence, /cannot be a host: Amazon Linux 2 has glibc 2\.26/);

  const { host } = healthyHost();
  host.files.delete('/etc/os-release');
  const unknown = await runCheck(osSupport, host);
  assert.equal(unknown.verdict, 'fail');
  assert.match(unknown.evidence, /cannot identify the system/);
});

test('ecs-optimized: ok without markers, fail with a banner, warn when ALLOW_ECS_OPTIMIZED=yes', async () => {
  const { host } = healthyHost();
  assert.equal((await runCheck(ecsOptimized, host)).verdict, 'ok');
  host.putFile('/etc/motd.d/31-banner', '   Amazon Linux 2023 (ECS Optimized)\n');
  const refused = await runCheck(ecsOptimized, host);
  assert.equal(refused.verdict, 'fail');
  assert.match(refused.evidence, /31-banner says "ECS Optimized"/);
  const allowed = await runCheck(ecsOptimized, host, { agentEnv: 'ALLOW_ECS_OPTIMIZED=yes\n' });
  assert.equal(allowed.verdict, 'warn');
  assert.match(allowed.evidence, /ALLOW_ECS_OPTIMIZED=yes/);
});

test('systemd: ok as PID 1, fail otherwise', async () => {
  const { host } = healthyHost();
  assert.equal((await runCheck(systemd, host)).verdict, 'ok');
  host.directories.delete('/run/systemd/system');
  const finding = await runCheck(systemd, host);
  assert.equal(finding.verdict, 'fail');
  assert.match(finding.fix ?? '', /systemd as its init system/);
});

test(
  'cgroups: ok with the memory controller, fail without it, without any hierarchy, or with a ' +
    'Docker too old for v2',
  async () => {
    const { host } = healthyHost();
    assert.deepEqual(await runCheck(cgroups, host), {
      verdict: 'ok',
      evidence: 'cgroup v2 with the memory controller',
    });

    host.putFile('/sys/fs/cgroup/cgroup.controllers', 'cpu io pids\n');
    const off = await runCheck(cgroups, host);
    assert.equal(off.verdict, 'fail');
    assert.match(off.fix ?? '', /cgroup_enable=memory/);

    host.files.delete('/sys/fs/cgroup/cgroup.controllers');
    assert.equal((await runCheck(cgroups, host)).verdict, 'fail');

    host.putFile('/sys/fs/cgroup/cgroup.controllers', 'memory\n');
    host.putFile(
      '/var/lib/dpkg/status',
      'Package: docker.io\nStatus: install ok installed\nVersion: 19.03.13-0ubuntu1\n',
    );
    const old = await runCheck(cgroups, host);
    assert.equal(old.verdict, 'fail');
    assert.match(old.evidence, /docker\.io 19\.03\.13-0ubuntu1 predates cgroup v2 support \(20\.10\)/);
  },
);

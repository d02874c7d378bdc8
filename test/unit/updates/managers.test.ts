/** Exit statuses of each distribution's tools are mapped, not guessed: the managers on a scripted Host. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { aptUpdates, REBOOT_REQUIRED_FILE, UNATTENDED_CONFIG } from '../../../src/concerns/updates/apt/index.ts';
import { dnfUpdates } from '../../../src/concerns/updates/dnf/index.ts';
import { ZyppLocked, zypperUpdates } from '../../../src/concerns/updates/zypper/index.ts';
import { CommandError } from '../../../src/core/errors.ts';
import type { Logger } from '../../../src/core/logger.ts';
import type { UpdateManager } from '../../../src/concerns/updates/types.ts';
import { FakeHost } from '../../support/fake-host.ts';

const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });

test('zypper patch runs again while it exits 103, and exit 102 signals a reboot', async () => {
  const statuses = [103, 102];
  const host = new FakeHost().onExec((file, args) =>
    file === 'zypper' && args.includes('patch')
      ? { exitCode: statuses.shift() ?? 0, stdout: '', stderr: '' }
      : undefined,
  );
  const result = await zypperUpdates(host).apply();
  assert.deepEqual(result, { rebootSignalled: true });
  assert.equal(host.commands().filter((command) => command.includes(' patch ')).length, 2);
  assert.equal(host.execCalls[0]?.env?.ZYPP_LOCK_TIMEOUT, '300', 'zypp waits for its lock, bounded');
});

test('zypper exit 7 is the zypp lock; 106 is success; anything else unknown is a failure', async () => {
  const locked = new FakeHost().answer('zypper', { exitCode: 7, stderr: 'System management is locked' });
  await assert.rejects(zypperUpdates(locked).apply(), ZyppLocked);
  const skipped = new FakeHost().answer('zypper', { exitCode: 106, stdout: '<stream></stream>' });
  assert.deepEqual((await zypperUpdates(skipped).check()).updates, []);
  const broken = new FakeHost().answer('zypper', { exitCode: 4, stderr: 'Problem retrieving files' });
  await assert.rejects(zypperUpdates(broken).check(), CommandError);
});

test('zypper needs-rebooting: 102 yes, 0 no, a zypper without the command cannot tell', async () => {
  for (const [exitCode, expected] of [
    [102, true],
    [0, false],
    [1, null],
  ] as const) {
    const host = new FakeHost().answer('zypper', {
      exitCode,
      stderr: exitCode === 1 ? 'Unknown command ' + "'needs-rebooting'" : '',
    });
    assert.equal(await zypperUpdates(host).rebootRequired(), expected, `exit ${exitCode}`);
  }
});

test('dnf needs-restarting -r: exit 1 yes, 0 no; without the plugin (also exit 1) it cannot tell', async () => {
  const answer = (exitCode: number, stdout: string) => new FakeHost().answer('dnf', { exitCode, stdout });
  assert.equal(
    await dnfUpdates(answer(1, 'Reboot is required to fully utilize these updates.'), {
      releaseUpgrade: false,
      amazonLinux: true,
    }).rebootRequired(),
    true,
  );
  assert.equal(
    await dnfUpdates(answer(0, 'Reboot should not be necessary.'), {
      releaseUpgrade: false,
      amazonLinux: true,
    }).rebootRequired(),
    false,
  );
  assert.equal(
    await dnfUpdates(answer(1, 'No such command: needs-restarting.'), {
      releaseUpgrade: false,
      amazonLinux: true,
    }).rebootRequired(),
    null,
  );
});

function al2023(): FakeHost {
  return new FakeHost()
    .answer('rpm', ok('2023.6.20241010'), ['-q', '--queryformat', '%{VERSION}', '--', 'system-release'])
    .answer('rpm', ok('25.0.3-1'), ['-q'])
    .answer('dnf', ok('      dnf upgrade --releasever=2023.6.20241111\n'), ['check-release-update'])
    .answer('dnf', { exitCode: 100, stdout: 'docker.x86_64   25.0.4-1.amzn2023   amazonlinux\n' }, [
      '-q',
      'check-update',
    ])
    .answer('dnf', ok('ALAS2023-2026-1 Important/Sec. docker-25.0.4-1.amzn2023.x86_64\n'), ['-q', 'updateinfo'])
    .answer('dnf', ok(), ['-y', 'upgrade']);
}

test(
  'dnf stays on the pinned release and reports a newer one; AL2023_RELEASE_UPGRADE=yes takes ' + 'updates from it',
  async () => {
    const pinnedHost = al2023();
    const pinned = dnfUpdates(pinnedHost, { releaseUpgrade: false, amazonLinux: true });
    const report = await pinned.check();
    assert.deepEqual(report.updates, [
      { package: 'docker', from: '25.0.3-1', to: '25.0.4-1.amzn2023', advisories: ['ALAS2023-2026-1'] },
    ]);
    assert.equal(report.newerRelease, '2023.6.20241111');
    assert.match(report.notes.join(), /2023\.6\.20241111 is available; the host stays on 2023\.6\.20241010/);
    await pinned.apply();
    assert.ok(
      pinnedHost.commands().includes('dnf -y upgrade --security --releasever=2023.6.20241010'),
      pinnedHost.commands().join('\n'),
    );

    const movingHost = al2023();
    await dnfUpdates(movingHost, { releaseUpgrade: true, amazonLinux: true }).apply();
    assert.ok(movingHost.commands().includes('dnf -y upgrade --security --releasever=2023.6.20241111'));
  },
);

test("dnf: the operator's /etc/dnf/vars/releasever wins over system-release", async () => {
  const host = al2023();
  host.putFile('/etc/dnf/vars/releasever', 'latest\n');
  const manager = dnfUpdates(host, { releaseUpgrade: false, amazonLinux: true });
  assert.equal((await manager.check()).newerRelease, null, '"latest" has nothing newer');
  assert.deepEqual(await manager.describeApply(), ['dnf -y upgrade --security --releasever=latest']);
});

test(
  'apt: unattended-upgrade waits (bounded) for the dpkg lock, with the security-only config and ' +
    'no automatic reboot',
  async () => {
    const host = new FakeHost({
      '/etc/os-release': '',
      '/var/lib/dpkg/status': 'Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\n',
    });
    let attempts = 0;
    host.answer('apt-get', ok()).onExec((file) => {
      if (file !== 'unattended-upgrade') return undefined;
      attempts++;
      return attempts < 3
        ? { exitCode: 1, stdout: 'Lock could not be acquired (another package manager running?)', stderr: '' }
        : ok('Packages that will be upgraded: openssl\n');
    });
    const report = await aptUpdates(host, 'debian').check();
    assert.deepEqual(report.updates, [{ package: 'openssl', from: '3.0.11-1~deb12u2', to: null, advisories: [] }]);
    assert.equal(attempts, 3);
    const config = host.text(UNATTENDED_CONFIG) ?? '';
    const securityOrigin = '"origin=Debian,codename=${distro_codename}-security,label=Debian-Security";';
    const origins = '#clear Unattended-Upgrade::Origins-Pattern;\n#clear Unattended-Upgrade::Allowed-Origins;\n';
    assert.ok(config.includes(`${origins}Unattended-Upgrade::Origins-Pattern {\n  ${securityOrigin}\n};`), config);
    assert.match(config, /Unattended-Upgrade::Automatic-Reboot "false";/);
    assert.equal(host.execCalls.find((call) => call.file === 'unattended-upgrade')?.env?.APT_CONFIG, UNATTENDED_CONFIG);
    assert.equal(host.execCalls.find((call) => call.file === 'unattended-upgrade')?.env?.NEEDRESTART_MODE, 'a');

    const forever = new FakeHost({ '/var/lib/dpkg/status': '' })
      .answer('apt-get', ok())
      .answer('unattended-upgrade', { exitCode: 1, stdout: 'Lock could not be acquired' });
    await assert.rejects(aptUpdates(forever, 'ubuntu').check(), CommandError, 'gives up after the lock timeout');
  },
);

test('apt: /var/run/reboot-required is the reboot signal', async () => {
  const host = new FakeHost();
  assert.equal(await aptUpdates(host, 'ubuntu').rebootRequired(), false);
  host.putFile(REBOOT_REQUIRED_FILE, '*** System restart required ***\n');
  assert.equal(await aptUpdates(host, 'ubuntu').rebootRequired(), true);
});

/** Each update manager's first run of `tool` fails as an offline mirror makes it fail, the next succeeds. */
interface Flaky {
  readonly tool: string;
  readonly manager: (host: FakeHost, logger: Logger) => UpdateManager;
  /** What the tool printed when the mirror could not be reached. */
  readonly offline: string;
  /** The command that failed once. */
  readonly command: string;
}

const FLAKY: readonly Flaky[] = [
  {
    tool: 'apt-get',
    manager: (host, logger) => aptUpdates(host, 'debian', logger),
    offline: "E: Failed to fetch http://deb.debian.org/debian/InRelease  Temporary failure resolving 'deb.debian.org'",
    command: 'apt-get -o DPkg::Lock::Timeout=300 update',
  },
  {
    tool: 'dnf',
    manager: (host, logger) => dnfUpdates(host, { releaseUpgrade: false, amazonLinux: false }, logger),
    offline: "Curl error (6): Couldn't resolve host name for https://cdn.amazonlinux.com/",
    command: 'dnf -y upgrade --security',
  },
  {
    tool: 'zypper',
    manager: (host, logger) => zypperUpdates(host, logger),
    offline: "Download (curl) error for 'https://updates.suse.com/': Timeout was reached",
    command: 'zypper --non-interactive patch --category security --with-interactive --auto-agree-with-licenses',
  },
];

for (const { tool, manager: managerOf, offline, command } of FLAKY) {
  test(`${tool}: the update path retries a failure the network explains, each retry logged`, async () => {
    let failures = 1;
    const failOnce = (file: string) =>
      file === tool && failures-- > 0 ? { exitCode: 4, stdout: '', stderr: `${offline}\n` } : undefined;
    const host = new FakeHost({ '/var/lib/dpkg/status': '' }).onExec(failOnce).onExec(() => ok());
    const warnings: string[] = [];
    const logger: Logger = { error() {}, warn: (message) => void warnings.push(message), info() {}, debug() {} };
    await managerOf(host, logger).apply();
    assert.equal(host.commands().filter((line) => line === command).length, 2, host.commands().join('\n'));
    assert.equal(host.slept, 5000);
    assert.deepEqual(warnings, [`${command} exited with 4 (${offline}); attempt 2 of 4 in 5 s`]);
  });
}

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isLockFailure, parseUnattendedOutput } from '../../../src/concerns/updates/apt/parse.ts';
import {
  nameOfNevra,
  newestOfferedRelease,
  parseCheckUpdate,
  parseUpdateinfoList,
} from '../../../src/concerns/updates/dnf/parse.ts';
import { parsePatchDryRun, parsePatchList } from '../../../src/concerns/updates/zypper/parse.ts';

test('unattended-upgrade --dry-run -v: the packages, and versions from the .deb names (epoch as %3a)', () => {
  const output = [
    'Starting unattended upgrades script',
    'Allowed origins are: origin=Debian,codename=bookworm-security,label=Debian-Security',
    'Packages that will be upgraded: libssl3 openssl tzdata',
    '/usr/bin/dpkg --status-fd 20 --no-triggers --unpack --auto-deconfigure ' +
      '/var/cache/apt/archives/libssl3_3.0.15-1~deb12u1_amd64.deb ' +
      '/var/cache/apt/archives/openssl_3.0.15-1~deb12u1_amd64.deb ',
    '/usr/bin/dpkg --status-fd 20 --unpack /var/cache/apt/archives/tzdata_1%3a2024a-0+deb12u1_all.deb ',
    'All upgrades installed',
  ].join('\n');
  const plan = parseUnattendedOutput(output);
  assert.deepEqual(plan.packages, ['libssl3', 'openssl', 'tzdata']);
  assert.equal(plan.versions.get('libssl3'), '3.0.15-1~deb12u1');
  assert.equal(plan.versions.get('tzdata'), '1:2024a-0+deb12u1');
  assert.deepEqual(
    parseUnattendedOutput('No packages found that can be upgraded unattended and no pending auto-removals').packages,
    [],
  );
  assert.equal(isLockFailure('E: Could not get lock /var/lib/dpkg/lock-frontend'), true);
  assert.equal(isLockFailure('Lock could not be acquired (another package manager running?)'), true);
});

test('dnf check-update: name.arch version repo, wrapped long names, no obsoletes, no Security: notes', () => {
  const output = [
    '',
    'docker.x86_64                        25.0.6-1.amzn2023.0.2                 amazonlinux',
    'a-package-with-a-very-very-long-name-indeed.noarch',
    '                                     1.2.3-4.amzn2023                      amazonlinux',
    'Security: kernel-6.1.112-122.189.amzn2023.x86_64 is an installed security update',
    'Obsoleting Packages',
    'grub2-tools.x86_64                   1:2.06-61.amzn2023                    amazonlinux',
  ].join('\n');
  assert.deepEqual(parseCheckUpdate(output), [
    { name: 'docker', arch: 'x86_64', version: '25.0.6-1.amzn2023.0.2' },
    { name: 'a-package-with-a-very-very-long-name-indeed', arch: 'noarch', version: '1.2.3-4.amzn2023' },
  ]);
});

test('dnf updateinfo list: advisory, severity and package name from the NEVRA', () => {
  const output =
    'ALAS2023-2024-745 Important/Sec. ' +
    'openssl-libs-1:3.0.8-1.amzn2023.0.14.x86_64\nALAS2023-2024-700 Sec.           curl-8.5.0-1.amzn2023.0.4.x86_64\n';
  assert.deepEqual(parseUpdateinfoList(output), [
    { id: 'ALAS2023-2024-745', severity: 'Important', packageName: 'openssl-libs' },
    { id: 'ALAS2023-2024-700', severity: null, packageName: 'curl' },
  ]);
  assert.equal(nameOfNevra('docker-25.0.4-1.noarch'), 'docker');
});

test('dnf check-release-update: the newest release offered', () => {
  const output = [
    'WARNING:',
    '  A newer release of "Amazon Linux" is available.',
    '  Version 2023.6.20241031:',
    '    Run the following command to upgrade to 2023.6.20241031:',
    '      dnf upgrade --releasever=2023.6.20241031',
    '  Version 2023.6.20241111:',
    '      dnf upgrade --releasever=2023.6.20241111',
  ].join('\n');
  assert.equal(newestOfferedRelease(output), '2023.6.20241111');
  assert.equal(newestOfferedRelease('No such command: check-release-update.'), null);
});

test('zypper --xmlout: needed security patches, and the packages a patch run would change', () => {
  const patches = `<?xml version='1.0'?><stream><update-status version="0.6"><update-list>
<update kind="patch" name="SUSE-SLE-Module-Basesystem-15-SP5-2026-101" edition="1" arch="noarch" status="needed"
 category="security" severity="important"><summary>Security update for openssl &amp; friends</summary></update>
<update kind="patch" name="SUSE-2026-99" edition="1" arch="noarch" status="applied" category="security" severity="low">
<summary>old</summary></update>
</update-list></update-status></stream>`;
  assert.deepEqual(parsePatchList(patches), [
    {
      id: 'SUSE-SLE-Module-Basesystem-15-SP5-2026-101',
      severity: 'important',
      summary: 'Security update for openssl & friends',
    },
  ]);
  const dryRun = `<install-summary><to-upgrade>
<solvable type="package" name="libopenssl3" edition="3.0.8-150500.5.50.1" arch="x86_64"
 edition-old="3.0.8-150500.5.45.1" arch-old="x86_64" summary="x"/>
</to-upgrade><to-install><solvable type="patch" name="SUSE-2026-101" edition="1" arch="noarch"/>
<solvable type="package" name="libnew1" edition="1.0-1" arch="x86_64" summary="new dependency"/></to-install>
</install-summary>`;
  assert.deepEqual(parsePatchDryRun(dryRun), [
    { package: 'libopenssl3', from: '3.0.8-150500.5.45.1', to: '3.0.8-150500.5.50.1', advisories: [] },
    { package: 'libnew1', from: null, to: '1.0-1', advisories: [] },
  ]);
});

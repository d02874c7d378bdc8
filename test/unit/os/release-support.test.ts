import assert from 'node:assert/strict';
import { test } from 'node:test';

import { gatherOsFacts } from '../../../src/os/facts.ts';
import { assertManageable } from '../../../src/os/manageable.ts';
import { fakeHostFor, osFixtureNames } from '../../support/fixtures.ts';

/** Every fixture is a real os-release text (test/fixtures/os/SOURCES.md); each row is what the agent must conclude. */
const EXPECTED: Record<string, { id: string; version: string; status: string; reason?: RegExp }> = {
  'amzn-2023': { id: 'amzn', version: '2023', status: 'supported' },
  'amzn-2': { id: 'amzn', version: '2', status: 'image-only', reason: /glibc 2\.26.*2026-06-30/ },
  'amzn-2018.03': {
    id: 'amzn',
    version: '2018.03',
    status: 'refused',
    reason: /Amazon Linux AMI \(2015\.03-2018\.03\) is end of life/,
  },
  'amzn-2015.03': { id: 'amzn', version: '2015.03', status: 'refused', reason: /end of life/ },
  'ubuntu-14.04': { id: 'ubuntu', version: '14.04', status: 'refused', reason: /past standard support.*glibc/ },
  'ubuntu-16.04': { id: 'ubuntu', version: '16.04', status: 'refused', reason: /past standard support/ },
  'ubuntu-18.04': { id: 'ubuntu', version: '18.04', status: 'refused', reason: /past standard support/ },
  'ubuntu-20.04': { id: 'ubuntu', version: '20.04', status: 'supported' },
  'ubuntu-22.04': { id: 'ubuntu', version: '22.04', status: 'supported' },
  'ubuntu-24.04': { id: 'ubuntu', version: '24.04', status: 'supported' },
  'debian-10': {
    id: 'debian',
    version: '10',
    status: 'refused',
    reason: /not supported; supported: Amazon Linux 2023/,
  },
  'debian-11': { id: 'debian', version: '11', status: 'supported' },
  'debian-12': { id: 'debian', version: '12', status: 'supported' },
  'sles-12.5': { id: 'sles', version: '12.5', status: 'image-only', reason: /SLES 12 has glibc 2\.22/ },
  'sles-15.3': { id: 'sles', version: '15.3', status: 'supported' },
  'sles-15.5': { id: 'sles', version: '15.5', status: 'supported' },
  'sles-15.6': { id: 'sles', version: '15.6', status: 'supported' },
  'opensuse-leap-15.3': { id: 'opensuse-leap', version: '15.3', status: 'supported' },
  'opensuse-leap-15.5': { id: 'opensuse-leap', version: '15.5', status: 'supported' },
  'opensuse-leap-15.6': { id: 'opensuse-leap', version: '15.6', status: 'supported' },
  'centos-7': {
    id: 'centos',
    version: '7',
    status: 'refused',
    reason: /CentOS Linux 7.*not supported; supported: .*SLES 15 SP3/,
  },
};

test('every OS fixture has an expectation, and every expectation a fixture', () => {
  assert.deepEqual(osFixtureNames().sort(), Object.keys(EXPECTED).sort());
});

for (const [fixture, expected] of Object.entries(EXPECTED)) {
  test(`${fixture}: identified as ${expected.id} ${expected.version}, ${expected.status}`, async () => {
    const facts = await gatherOsFacts(fakeHostFor(fixture));
    assert.equal(facts.release.id, expected.id);
    assert.equal(facts.release.versionId, expected.version);
    assert.equal(facts.release.source, '/etc/os-release');
    assert.equal(facts.support.status, expected.status);
    if (expected.reason && facts.support.status !== 'supported') assert.match(facts.support.reason, expected.reason);
  });
}

test('a supported release is manageable as a host and as an image root', async () => {
  for (const root of ['/', '/img']) {
    assert.deepEqual(
      assertManageable(await gatherOsFacts(fakeHostFor('sles-15.5', root)), { allowEcsOptimized: false }),
      [],
    );
  }
});

test('Amazon Linux 2 and SLES 12 are refused as hosts but accepted as image roots', async () => {
  for (const fixture of ['amzn-2', 'sles-12.5']) {
    const onHost = await gatherOsFacts(fakeHostFor(fixture));
    assert.throws(() => assertManageable(onHost, { allowEcsOptimized: false }), {
      name: 'RefusedError',
      message: /cannot be a host: .*glibc.*--root from a supported build host/,
    });
    const asImage = await gatherOsFacts(fakeHostFor(fixture, '/img'));
    assert.deepEqual(assertManageable(asImage, { allowEcsOptimized: false }), []);
  }
});

test('end-of-life releases are refused even as image roots, with exit code 3', async () => {
  const facts = await gatherOsFacts(fakeHostFor('ubuntu-18.04', '/img'));
  assert.throws(
    () => assertManageable(facts, { allowEcsOptimized: false }),
    (error: Error & { exitCode?: number }) => {
      assert.equal(error.exitCode, 3);
      assert.match(error.message, /^Ubuntu 18\.04\.\d LTS: Ubuntu 18\.04 is past standard support/);
      return true;
    },
  );
});

test('a host whose glibc is older than 2.28 is refused whatever its os-release says', async () => {
  const host = fakeHostFor('debian-12');
  host.putFile(
    '/lib/x86_64-linux-gnu/libc.so.6',
    'ELF...GNU C Library (Debian GLIBC 2.27-3) stable release version 2.27.\n',
  );
  const facts = await gatherOsFacts(host);
  assert.equal(facts.glibc, '2.27');
  assert.throws(() => assertManageable(facts, { allowEcsOptimized: false }), /glibc 2\.27; .* needs 2\.28 or later/);
});

test(
  'glibc: the version on the banner line, past other mentions of the library and wherever the ' + 'banner sits',
  async () => {
    const host = fakeHostFor('debian-12');
    const padding = '\0'.repeat(300_000);
    const banner = 'GNU C Library (Debian GLIBC 2.36-9+deb12u4) stable release version 2.36.\nCopyright (C) 2022';
    host.putFile(
      '/lib/x86_64-linux-gnu/libc.so.6',
      `ELF${padding}GNU C Library internal error\n${padding}${banner}\nversion 9.99`,
    );
    assert.equal((await gatherOsFacts(host)).glibc, '2.36');
    host.putFile('/lib/x86_64-linux-gnu/libc.so.6', `ELF${padding}GNU C Library without a version\nversion 2.99`);
    assert.equal((await gatherOsFacts(host)).glibc, null);
  },
);

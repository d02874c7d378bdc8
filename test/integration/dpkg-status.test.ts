/**
 * The dpkg database parser against dpkg's own reader: for this machine's
 * database, the debootstrap root's, and a copy with packages half-installed
 * and removed with their config files left, every package's version and
 * installed state must be what `dpkg-query --admindir=DIR -W` reports.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { parseDpkgStatus } from '../../src/pkg/dpkg-status.ts';
import { DEBIAN_ROOT } from '../support/paths.ts';
import { scratchDir } from '../support/scratch.ts';

function dpkgQuery(adminDir: string): Map<string, { version: string; installed: boolean }> {
  const listing = execFileSync(
    'dpkg-query',
    [`--admindir=${adminDir}`, '-W', '-f', '${Package}\t${Version}\t${db:Status-Status}\n'],
    { encoding: 'utf8' },
  );
  const packages = new Map<string, { version: string; installed: boolean }>();
  for (const line of listing.split('\n').filter(Boolean)) {
    const [name, version, status] = line.split('\t') as [string, string, string];
    packages.set(name, { version, installed: status === 'installed' });
  }
  return packages;
}

function assertSameAsDpkg(adminDir: string): void {
  const parsed = parseDpkgStatus(readFileSync(`${adminDir}/status`, 'utf8'));
  const expected = dpkgQuery(adminDir);
  assert.ok(expected.size > 0, `dpkg-query lists no package in ${adminDir}`);
  assert.deepEqual(
    new Map([...parsed].map(([name, entry]) => [name, { version: entry.version, installed: entry.installed }])),
    expected,
  );
}

const UNUSUAL_STANZAS = `
Package: removed-keeping-config
Status: deinstall ok config-files
Priority: optional
Maintainer: Someone <someone@example.org>
Architecture: amd64
Version: 1.0-1
Description: removed, its configuration files left
 Package: not-a-package (a continuation line)


Package: half-installed
Status: install ok half-installed
Maintainer: Someone <someone@example.org>
Architecture: all
Version: 2:3.4~rc1-1
Description: an interrupted installation
`;

test('dpkg status: every package, version and installed state as dpkg-query reads them', (t) => {
  assertSameAsDpkg('/var/lib/dpkg');
  assert.ok(
    existsSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`),
    'the debootstrap fixture is missing: run npm test, whose setup builds it',
  );
  assertSameAsDpkg(`${DEBIAN_ROOT}/var/lib/dpkg`);

  const copy = scratchDir(t);
  copyFileSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`, `${copy}/status`);
  appendFileSync(`${copy}/status`, UNUSUAL_STANZAS);
  assertSameAsDpkg(copy);
  const parsed = parseDpkgStatus(readFileSync(`${copy}/status`, 'utf8'));
  assert.deepEqual(parsed.get('removed-keeping-config'), {
    name: 'removed-keeping-config',
    version: '1.0-1',
    installed: false,
  });
  assert.deepEqual(parsed.get('half-installed'), { name: 'half-installed', version: '2:3.4~rc1-1', installed: false });
  assert.equal(parsed.has('not-a-package'), false);
});

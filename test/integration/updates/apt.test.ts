/**
 * `updates check` and `updates apply` with the real unattended-upgrade in a
 * copy of the debootstrap'd Debian 12 root. Two local repositories stand in
 * for the archive: "bookworm-security" (label Debian-Security) with a fix of
 * eha-secfix, and a point release (codename bookworm, label Debian) with a
 * newer eha-bugfix, which Debian's own 50unattended-upgrades would also take.
 * The agent must list and install only the security fix.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { parseUnattendedOutput } from '../../../src/concerns/updates/apt/parse.ts';
import { runCli } from '../../support/cli.ts';
import { DEBIAN_ROOT } from '../../support/paths.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';

interface Deb {
  readonly name: string;
  readonly version: string;
}

const SECFIX_OLD: Deb = { name: 'eha-secfix', version: '1.0' };
const SECFIX_NEW: Deb = { name: 'eha-secfix', version: '1.1' };
const BUGFIX_OLD: Deb = { name: 'eha-bugfix', version: '1.0' };
const BUGFIX_NEW: Deb = { name: 'eha-bugfix', version: '1.1' };

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };

function inRoot(root: string, args: readonly string[]): string {
  return execFileSync('chroot', [root, ...args], { encoding: 'utf8', env: APT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
}

function buildDeb(dir: string, deb: Deb): string {
  const tree = join(dir, `${deb.name}-${deb.version}`);
  mkdirSync(join(tree, 'DEBIAN'), { recursive: true });
  mkdirSync(join(tree, 'usr/share/doc', deb.name), { recursive: true });
  const control = [
    `Package: ${deb.name}`,
    `Version: ${deb.version}`,
    'Architecture: all',
    'Maintainer: ecs-host-agent tests <tests@example.invalid>',
    `Description: test stand-in ${deb.name}`,
    '',
  ];
  writeFileSync(join(tree, 'DEBIAN/control'), control.join('\n'));
  writeFileSync(join(tree, 'usr/share/doc', deb.name, 'version'), `${deb.version}\n`);
  const file = join(dir, `${deb.name}_${deb.version}_all.deb`);
  execFileSync('dpkg-deb', ['-Zgzip', '--root-owner-group', '--build', tree, file], { stdio: 'ignore' });
  return file;
}

/** A flat repository apt reads over file:, with the Release fields unattended-upgrade matches origins on. */
function buildRepo(
  dir: string,
  debs: readonly Deb[],
  release: { label: string; codename: string; suite: string },
): void {
  mkdirSync(dir, { recursive: true });
  const stanzas = debs.map((deb) => {
    const file = buildDeb(dir, deb);
    const bytes = readFileSync(file);
    const name = file.slice(dir.length + 1);
    return [
      `Package: ${deb.name}`,
      `Version: ${deb.version}`,
      'Architecture: all',
      'Maintainer: ecs-host-agent tests <tests@example.invalid>',
      `Filename: ./${name}`,
      `Size: ${bytes.length}`,
      `SHA256: ${sha256(bytes)}`,
      `Description: test stand-in ${deb.name}`,
      '',
    ].join('\n');
  });
  const packages = `${stanzas.join('\n')}`;
  writeFileSync(join(dir, 'Packages'), packages);
  const fields = [
    'Origin: Debian',
    `Label: ${release.label}`,
    `Suite: ${release.suite}`,
    `Codename: ${release.codename}`,
    `Date: ${new Date().toUTCString()}`,
    'SHA256:',
  ];
  writeFileSync(
    join(dir, 'Release'),
    `${fields.join('\n')}\n ${sha256(Buffer.from(packages))} ${Buffer.byteLength(packages)} Packages\n`,
  );
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function installedVersions(root: string): Record<string, string> {
  const lines = inRoot(root, ['dpkg-query', '-W', '-f', '${Package} ${Version}\n', SECFIX_OLD.name, BUGFIX_OLD.name])
    .trim()
    .split('\n');
  return Object.fromEntries(lines.map((line) => line.split(' ') as [string, string]));
}

/** The copy gets unattended-upgrades from the fixture's own mirror, then only the local repositories. */
function prepareRoot(work: string): string {
  const root = join(work, 'root');
  execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
  const policy = join(root, 'usr/sbin/policy-rc.d');
  writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  inRoot(root, ['apt-get', 'update', '-q']);
  inRoot(root, ['apt-get', 'install', '-y', '-q', '--no-install-recommends', 'unattended-upgrades']);
  rmSync(policy);
  writeFileSync(join(root, 'etc/apt/sources.list'), '');
  buildRepo(join(root, 'srv/security'), [SECFIX_NEW], {
    label: 'Debian-Security',
    codename: 'bookworm-security',
    suite: 'bookworm-security',
  });
  buildRepo(join(root, 'srv/point-release'), [BUGFIX_NEW], { label: 'Debian', codename: 'bookworm', suite: 'stable' });
  writeFileSync(
    join(root, 'etc/apt/sources.list.d/ecs-host-agent-tests.list'),
    'deb [trusted=yes] file:/srv/security ./\ndeb [trusted=yes] file:/srv/point-release ./\n',
  );
  const staging = join(root, 'tmp/debs');
  mkdirSync(staging, { recursive: true });
  const debs = [SECFIX_OLD, BUGFIX_OLD].map((deb) => buildDeb(staging, deb).slice(root.length));
  inRoot(root, ['dpkg', '-i', ...debs]);
  return root;
}

test(
  'Debian root: unattended-upgrade restricted to the security origin lists and installs only the ' + 'security fix',
  async (t) => {
    requireRoot();
    assert.ok(
      existsSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`),
      'the debootstrap fixture is missing: run npm test, whose setup builds it',
    );
    const root = prepareRoot(scratchDir(t, 'updates-apt-'));
    const aptConfBefore = readdirSync(join(root, 'etc/apt/apt.conf.d')).map((name) => [
      name,
      statSync(join(root, 'etc/apt/apt.conf.d', name)).mtimeMs,
    ]);

    inRoot(root, ['apt-get', 'update', '-q']);
    const distributionDefault = parseUnattendedOutput(inRoot(root, ['unattended-upgrade', '--dry-run', '-v']));
    assert.deepEqual(
      [...distributionDefault.packages].sort(),
      [BUGFIX_OLD.name, SECFIX_OLD.name],
      "Debian's default " + 'origins take the point release too',
    );

    const check = await runCli(['updates', 'check', '--json', '--root', root]);
    assert.equal(check.status, 0, check.stderr);
    const report = JSON.parse(check.stdout);
    assert.equal(report.manager, 'apt');
    assert.deepEqual(report.updates, [
      { package: SECFIX_OLD.name, from: SECFIX_OLD.version, to: SECFIX_NEW.version, advisories: [] },
    ]);
    assert.deepEqual(
      installedVersions(root),
      { [SECFIX_OLD.name]: SECFIX_OLD.version, [BUGFIX_OLD.name]: BUGFIX_OLD.version },
      'check installs nothing',
    );

    const apply = await runCli(['updates', 'apply', '--json', '--root', root]);
    assert.equal(apply.status, 0, apply.stderr);
    assert.deepEqual(JSON.parse(apply.stdout).applied.changed, [
      { package: SECFIX_OLD.name, from: SECFIX_OLD.version, to: SECFIX_NEW.version },
    ]);
    assert.deepEqual(installedVersions(root), {
      [SECFIX_OLD.name]: SECFIX_NEW.version,
      [BUGFIX_OLD.name]: BUGFIX_OLD.version,
    });

    const again = await runCli(['updates', 'apply', '--json', '--root', root]);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout).applied.changed, []);
    const afterNames = readdirSync(join(root, 'etc/apt/apt.conf.d')).map((name) => [
      name,
      statSync(join(root, 'etc/apt/apt.conf.d', name)).mtimeMs,
    ]);
    assert.deepEqual(afterNames, aptConfBefore, "the operator's apt configuration is untouched");
  },
);

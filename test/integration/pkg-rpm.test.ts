/**
 * The RPM-family PackageManager against the real dnf, zypper and rpm, on
 * scratch image roots fed by a local repository of stub packages.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CommandError } from '../../src/core/errors.ts';
import type { Host } from '../../src/host/host.ts';
import { RealHost } from '../../src/host/real-host.ts';
import type { PackageManagerName } from '../../src/os/support.ts';
import { packageManagerFor } from '../../src/pkg/package-manager.ts';
import {
  AMAZON_ECS_INIT,
  buildRpmRepo,
  DOCKER,
  ECS_INIT,
  ECS_STUB_PACKAGES,
  type PackageFile,
  type RpmPackage,
  type SecurityAdvisory,
  versionRelease,
} from '../support/rpm-repo.ts';
import { addRepo, createRpmRoot, type RpmRootKind } from '../support/rpm-roots.ts';

interface RootCase {
  readonly kind: RpmRootKind;
  readonly packageManager: PackageManagerName;
  /** What the docker and ecs concerns install there. */
  readonly packages: readonly RpmPackage[];
  /** The distribution's command listing security advisories that apply. */
  readonly listSecurityUpdates: readonly [string, readonly string[]];
}

const CASES: readonly RootCase[] = [
  {
    kind: 'amazon-linux-2023',
    packageManager: 'dnf',
    packages: [DOCKER, ECS_INIT],
    listSecurityUpdates: ['dnf', ['updateinfo', 'list', '--security']],
  },
  {
    kind: 'sles-15',
    packageManager: 'zypper',
    packages: [DOCKER, AMAZON_ECS_INIT],
    listSecurityUpdates: ['zypper', ['--non-interactive', 'list-patches', '--category', 'security']],
  },
];

const DOCKER_FIX: RpmPackage = { ...DOCKER, version: '25.0.4' };
const DOCKER_ADVISORY: SecurityAdvisory = {
  id: 'TEST-2026-0001',
  title: 'Important: docker security update',
  severity: 'Important',
  issued: '2026-11-01 00:00:00',
  packages: [DOCKER_FIX],
};

const EDITED = '# edited after the install\n';

let scratch = '';
let repo = '';
let rootCount = 0;

before(async () => {
  assert.equal(process.getuid?.(), 0, 'installing packages into image roots needs root: run the tests as root');
  scratch = await mkdtemp(join(tmpdir(), 'pkg-rpm-'));
  repo = await buildRpmRepo(join(scratch, 'repo'), ECS_STUB_PACKAGES);
});

after(() => rm(scratch, { recursive: true, force: true }));

/** Each test gets its own root, so none depends on another having run. */
async function freshRoot(kind: RpmRootKind): Promise<Host> {
  return new RealHost(await createRpmRoot(join(scratch, `${kind}-${++rootCount}`), kind, repo));
}

function names(packages: readonly RpmPackage[]): string[] {
  return packages.map((pkg) => pkg.name);
}

function filesOf(packages: readonly RpmPackage[]): PackageFile[] {
  return packages.flatMap((pkg) => pkg.files ?? []);
}

async function textOnThisMachine(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

for (const { kind, packageManager, packages, listSecurityUpdates } of CASES) {
  describe(`${packageManager} on a ${kind} image root`, () => {
    test(`installs ${names(packages).join(' and ')} into the root, and only there`, async () => {
      const host = await freshRoot(kind);
      const manager = packageManagerFor(packageManager, host);
      for (const pkg of packages) assert.equal(await manager.installedVersion(pkg.name), null, `${pkg.name} before`);

      await manager.install(names(packages));

      for (const pkg of packages) assert.equal(await manager.installedVersion(pkg.name), versionRelease(pkg), pkg.name);
      for (const file of filesOf(packages)) {
        assert.equal(await host.readText(file.path), file.content, `${file.path} in the root`);
        assert.equal((await host.stat(file.path))?.mode, file.mode ?? 0o644, `mode of ${file.path}`);
        assert.notEqual(await textOnThisMachine(file.path), file.content, `${file.path} must not land on this machine`);
      }
    });

    test('installing what is installed succeeds and changes nothing', async () => {
      const host = await freshRoot(kind);
      const manager = packageManagerFor(packageManager, host);
      await manager.install(names(packages));
      // rpm restores packaged mtimes, so only a changed file shows whether it was reinstalled.
      for (const file of filesOf(packages)) await host.writeFileAtomic(file.path, `${file.content}${EDITED}`);

      await manager.install(names(packages));

      for (const file of filesOf(packages)) {
        assert.equal(await host.readText(file.path), `${file.content}${EDITED}`, `${file.path} was installed again`);
      }
      for (const pkg of packages) assert.equal(await manager.installedVersion(pkg.name), versionRelease(pkg), pkg.name);
    });

    test('a package no repository has fails with a CommandError naming it', async () => {
      const manager = packageManagerFor(packageManager, await freshRoot(kind));
      await assert.rejects(
        manager.install(['docker', 'no-such-package']),
        (error) => error instanceof CommandError && error.stderr.includes('no-such-package'),
      );
      assert.equal(await manager.installedVersion('docker'), null, 'the transaction installs all or nothing');
    });

    test('a security advisory added with modifyrepo_c is listed for the installed package', async () => {
      const host = await freshRoot(kind);
      await packageManagerFor(packageManager, host).install([DOCKER.name]);
      const updates = await buildRpmRepo(join(scratch, `updates-${++rootCount}`), [DOCKER_FIX], [DOCKER_ADVISORY]);
      await addRepo(host.root, kind, 'updates', updates);

      const [file, args] = listSecurityUpdates;
      const result = await host.exec(file, args);

      assert.equal(result.exitCode, 0, result.stderr);
      assert.match(result.stdout, new RegExp(DOCKER_ADVISORY.id));
    });
  });
}

test('rpm --root on a root without an rpm database reports nothing installed', async () => {
  const root = join(scratch, 'no-rpmdb');
  await mkdir(root);
  // rpm (4.18, sqlite) creates an empty database there as it answers.
  assert.equal(await packageManagerFor('dnf', new RealHost(root)).installedVersion('docker'), null);
});

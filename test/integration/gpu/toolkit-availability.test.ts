/**
 * PackageManager.availableVersion and the gpu concern's plan against the real
 * apt, dnf and zypper: apt in a copy of the debootstrap'd Debian 12 root, the
 * RPM family on scratch roots fed by local repositories with and without a
 * stub nvidia-container-toolkit. No GPU exists here: the concern gets one
 * through its os facts. Every repository is local (file:), nothing leaves
 * this machine.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';

import { gpuConcern, TOOLKIT } from '../../../src/concerns/gpu/index.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import type { PackageManagerName } from '../../../src/os/support.ts';
import { packageManagerFor } from '../../../src/pkg/package-manager.ts';
import { DEBIAN_ROOT } from '../../support/paths.ts';
import { buildRpmRepo, DOCKER, type RpmPackage, versionRelease } from '../../support/rpm-repo.ts';
import { createRpmRoot, type RpmRootKind } from '../../support/rpm-roots.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';

const TOOLKIT_STUB: RpmPackage = { name: TOOLKIT, version: '1.17.8', release: '1' };
const APT_LISTS = 'var/lib/apt/lists';

/** The fixture's own index of bookworm main, whatever mirror debootstrap fetched it from. */
function debianMainIndex(): string {
  const lists = existsSync(join(DEBIAN_ROOT, APT_LISTS)) ? readdirSync(join(DEBIAN_ROOT, APT_LISTS)) : [];
  const index = lists.find((name) => /_dists_bookworm_main_binary-[a-z0-9]+_Packages$/.test(name));
  assert.ok(index, 'the debootstrap fixture (with its package index) is missing: run npm test, whose setup builds it');
  return `${APT_LISTS}/${index}`;
}

/** The gpu concern's view of the root as if it were a running host with one NVIDIA GPU and no systemd. */
async function gpuContext(host: RealHost): Promise<ConcernContext> {
  const config = loadConfig({ file: 'agent.env', fileText: null, env: {}, flags: {} });
  const os = { ...(await gatherOsFacts(host)), nvidiaGpus: 1, systemdRunning: false };
  return { host, config, os, logger: silentLogger, resetAgentState: false };
}

async function planKinds(host: RealHost): Promise<{ kinds: string[]; warnings: string[] }> {
  const context = await gpuContext(host);
  const facts = await gpuConcern.gather(context);
  return {
    kinds: gpuConcern.plan(facts, context).map((action) => action.kind),
    warnings: gpuConcern.warnings?.(facts, context) ?? [],
  };
}

const RPM_CASES: readonly { readonly kind: RpmRootKind; readonly manager: PackageManagerName }[] = [
  { kind: 'amazon-linux-2023', manager: 'dnf' },
  { kind: 'sles-15', manager: 'zypper' },
];

for (const { kind, manager } of RPM_CASES) {
  describe(`${manager} on a ${kind} root`, () => {
    async function rootWith(t: TestContext, packages: readonly RpmPackage[]): Promise<RealHost> {
      requireRoot();
      const work = scratchDir(t, 'gpu-rpm-');
      const repo = await buildRpmRepo(join(work, 'repo'), packages);
      return new RealHost(await createRpmRoot(join(work, 'root'), kind, repo));
    }

    test(
      'a repository with the toolkit: its version is reported, the install planned, and still ' +
        'reported once installed',
      async (t) => {
        const host = await rootWith(t, [DOCKER, TOOLKIT_STUB]);
        const packages = packageManagerFor(manager, host);

        assert.equal(await packages.availableVersion(TOOLKIT), versionRelease(TOOLKIT_STUB));
        assert.deepEqual((await planKinds(host)).kinds, ['install', 'configure-runtime']);

        await packages.install([TOOLKIT]);
        assert.equal(await packages.installedVersion(TOOLKIT), versionRelease(TOOLKIT_STUB));
        assert.equal(await packages.availableVersion(TOOLKIT), versionRelease(TOOLKIT_STUB));
      },
    );

    test(
      "repositories without it: not available, nothing planned, a warning naming NVIDIA's " + 'repository',
      async (t) => {
        const host = await rootWith(t, [DOCKER]);

        assert.equal(await packageManagerFor(manager, host).availableVersion(TOOLKIT), null);
        assert.equal(
          await packageManagerFor(manager, host).availableVersion(DOCKER.name),
          versionRelease(DOCKER),
          'the query itself works',
        );
        const { kinds, warnings } = await planKinds(host);
        assert.deepEqual(kinds, []);
        assert.match(
          warnings.join('\n'),
          /no configured repository provides nvidia-container-toolkit.*NVIDIA's repository/,
        );
      },
    );
  });
}

describe('apt in a copy of the Debian 12 root', () => {
  /** The root's apt reads only the given local flat repository (inside the root: apt runs chrooted). */
  function useOnly(root: string, repoDir: string): void {
    writeFileSync(join(root, 'etc/apt/sources.list'), '');
    writeFileSync(join(root, 'etc/apt/sources.list.d/local.list'), `deb [trusted=yes] file:/${repoDir} ./\n`);
  }

  function debianCopy(t: TestContext): string {
    requireRoot();
    assert.ok(existsSync(DEBIAN_ROOT), 'the debootstrap fixture is missing: run npm test, whose setup builds it');
    const root = join(scratchDir(t, 'gpu-apt-'), 'root');
    execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
    return root;
  }

  test(
    "Debian's own archive (bookworm main, the index debootstrap fetched) does not provide the " + 'toolkit',
    async (t) => {
      const root = debianCopy(t);
      // The archive's index as a local repository: the real apt-get update and apt-cache, offline.
      mkdirSync(join(root, 'srv/debian'), { recursive: true });
      copyFileSync(join(root, debianMainIndex()), join(root, 'srv/debian/Packages'));
      useOnly(root, 'srv/debian');
      const packages = packageManagerFor('apt', new RealHost(root));

      assert.equal(await packages.availableVersion(TOOLKIT), null);
      assert.match(
        (await packages.availableVersion('docker.io')) ?? '',
        /^20\.10\./,
        'the same index answers for what it has',
      );
      const { kinds, warnings } = await planKinds(new RealHost(root));
      assert.deepEqual(kinds, []);
      assert.match(warnings.join('\n'), /apt repository/);
    },
  );

  test('a repository that has it: its candidate version is reported and the install planned', async (t) => {
    const root = debianCopy(t);
    mkdirSync(join(root, 'srv/nvidia'), { recursive: true });
    const stanza = [
      `Package: ${TOOLKIT}`,
      'Version: 1.17.8-1',
      'Architecture: all',
      'Maintainer: ecs-host-agent tests <tests@example.invalid>',
      `Filename: ./${TOOLKIT}_1.17.8-1_all.deb`,
      'Size: 1',
      'Description: test stand-in',
      '',
    ];
    writeFileSync(join(root, 'srv/nvidia/Packages'), `${stanza.join('\n')}\n`);
    useOnly(root, 'srv/nvidia');

    assert.equal(await packageManagerFor('apt', new RealHost(root)).availableVersion(TOOLKIT), '1.17.8-1');
    assert.deepEqual((await planKinds(new RealHost(root))).kinds, ['install', 'configure-runtime']);
  });
});

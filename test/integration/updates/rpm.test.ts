/**
 * `updates check` and `updates apply` on real dnf and zypper, against scratch
 * image roots fed by local repositories: the updates repository holds a fix
 * named in a security advisory (updateinfo via modifyrepo_c) and a plain
 * bugfix update; only the security fix is listed and installed.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LAST_APPLY_FILE } from '../../../src/concerns/updates/apply.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import type { PackageManagerName } from '../../../src/os/support.ts';
import { packageManagerFor } from '../../../src/pkg/package-manager.ts';
import { runCli } from '../../support/cli.ts';
import {
  buildRpmRepo,
  DOCKER,
  type RpmPackage,
  type SecurityAdvisory,
  versionRelease,
} from '../../support/rpm-repo.ts';
import { addRepo, createRpmRoot, type RpmRootKind } from '../../support/rpm-roots.ts';
import { requireRoot } from '../../support/scratch.ts';

const TOOL: RpmPackage = { name: 'eha-tool', version: '1.0', release: '1' };
const TOOL_BUGFIX: RpmPackage = { ...TOOL, version: '1.1' };
const DOCKER_FIX: RpmPackage = { ...DOCKER, version: '25.0.4' };
const ADVISORY: SecurityAdvisory = {
  id: 'TEST-2026-0042',
  title: 'Important: docker security update',
  severity: 'Important',
  issued: '2026-11-01 00:00:00',
  packages: [DOCKER_FIX],
};

const CASES: readonly { kind: RpmRootKind; manager: PackageManagerName }[] = [
  { kind: 'amazon-linux-2023', manager: 'dnf' },
  { kind: 'sles-15', manager: 'zypper' },
];

let scratch = '';
let base = '';
let updates = '';

before(async () => {
  requireRoot();
  scratch = await mkdtemp(join(tmpdir(), 'updates-rpm-'));
  base = await buildRpmRepo(join(scratch, 'base'), [DOCKER, TOOL]);
  updates = await buildRpmRepo(join(scratch, 'updates'), [DOCKER_FIX, TOOL_BUGFIX], [ADVISORY]);
});
after(() => rm(scratch, { recursive: true, force: true }));

async function cliJson(args: readonly string[]): Promise<Record<string, unknown>> {
  const result = await runCli(args);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

for (const { kind, manager } of CASES) {
  describe(`${manager} on a ${kind} image root`, () => {
    test(
      'check lists exactly the security update, apply installs only it, a second apply changes ' + 'nothing',
      async () => {
        const root = await createRpmRoot(join(scratch, kind), kind, base);
        const packages = packageManagerFor(manager, new RealHost(root));
        await packages.install([DOCKER.name, TOOL.name]);
        await addRepo(root, kind, 'updates', updates);

        const check = await cliJson(['updates', 'check', '--json', '--root', root]);
        assert.equal(check.manager, manager);
        assert.deepEqual(
          (check.updates as { package: string; from: string; to: string }[]).map(({ package: name, from, to }) => ({
            name,
            from,
            to,
          })),
          [{ name: 'docker', from: versionRelease(DOCKER), to: versionRelease(DOCKER_FIX) }],
          'the bugfix update of eha-tool is not a security update',
        );
        assert.deepEqual(
          (check.advisories as { id: string }[]).map((advisory) => advisory.id),
          [ADVISORY.id],
        );
        assert.equal(check.rebootRequired, null, 'an image root has no reboot signal');

        const dryRun = await cliJson(['updates', 'apply', '--dry-run', '--json', '--root', root]);
        assert.equal(dryRun.reboot, 'an image root is not rebooted');
        assert.equal(await packages.installedVersion(DOCKER.name), versionRelease(DOCKER), 'a dry run changes nothing');

        const applied = await cliJson(['updates', 'apply', '--json', '--root', root]);
        const changed = (applied.applied as { changed: unknown[] }).changed;
        assert.deepEqual(changed, [
          { package: 'docker', from: versionRelease(DOCKER), to: versionRelease(DOCKER_FIX) },
        ]);
        assert.equal((applied.reboot as { outcome: string }).outcome, 'image-root');
        assert.equal(await packages.installedVersion(DOCKER.name), versionRelease(DOCKER_FIX));
        assert.equal(
          await packages.installedVersion(TOOL.name),
          versionRelease(TOOL),
          'the bugfix update is left alone',
        );
        assert.deepEqual(
          JSON.parse(readFileSync(join(root, LAST_APPLY_FILE), 'utf8')).changed,
          changed,
          'what changed is recorded',
        );

        const again = await cliJson(['updates', 'apply', '--json', '--root', root]);
        assert.deepEqual((again.applied as { changed: unknown[] }).changed, []);
        assert.deepEqual((await cliJson(['updates', 'check', '--json', '--root', root])).updates, []);
        assert.equal(
          existsSync(LAST_APPLY_FILE) && readFileSync(LAST_APPLY_FILE, 'utf8').includes(ADVISORY.id),
          false,
          'this machine is untouched',
        );
      },
    );
  });
}

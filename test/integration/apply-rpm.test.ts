/**
 * `apply --root` end to end on RPM-family image roots: the docker, ecs-config
 * and ecs concerns through the real dnf --installroot and zypper --root, fed
 * by a local repository of stub packages; a second run plans nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';
import { buildRpmRepo, ECS_STUB_PACKAGES } from '../support/rpm-repo.ts';
import { createRpmRoot, type RpmRootKind } from '../support/rpm-roots.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';

const CASES: [RpmRootKind, string, string][] = [
  ['amazon-linux-2023', 'ecs-init', 'ecs.service'],
  ['sles-15', 'amazon-ecs-init', 'amazon-ecs.service'],
];

for (const [kind, ecsInit, unit] of CASES) {
  test(
    `apply --root on a ${kind} root installs docker and ${ecsInit}, enables ${unit}; a second run ` + `plans nothing`,
    async (t) => {
      requireRoot();
      const dir = scratchDir(t);
      const repo = await buildRpmRepo(`${dir}/repo`, ECS_STUB_PACKAGES);
      const root = await createRpmRoot(`${dir}/root`, kind, repo);
      const env = { ECS_CLUSTER: 'rpm-bake' };

      const applied = await runCli(['apply', '--root', root], env, 300_000);
      assert.equal(applied.status, 0, applied.stderr);
      const rpmQuery = (name: string) =>
        execFileSync('rpm', ['--root', root, '-q', '--', name], { encoding: 'utf8' }).trim();
      assert.match(rpmQuery('docker'), /^docker-/);
      assert.match(rpmQuery(ecsInit), new RegExp(`^${ecsInit}-`));
      for (const name of ['docker.service', unit]) {
        assert.equal(
          execFileSync('systemctl', [`--root=${root}`, 'is-enabled', name], { encoding: 'utf8' }).trim(),
          'enabled',
          name,
        );
      }
      assert.match(readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8'), /^ECS_CLUSTER=rpm-bake$/m);
      assert.ok(existsSync(`${root}/var/lib/ecs-host-agent/ecs-init-installed-by-agent`));

      const again = await runCli(['plan', '--json', '--root', root], env);
      assert.equal(again.status, 0, again.stderr);
      for (const concern of JSON.parse(again.stdout).concerns)
        assert.deepEqual(concern.actions, [], `${concern.concern} plans nothing`);
    },
  );
}

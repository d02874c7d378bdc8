/**
 * A minimal Debian 12 (the suite's debootstrap root) has no unattended-upgrades. `updates check` says so
 * precisely instead of failing to start it; `plan` shows the steps that install it, and they work with the
 * real debconf and apt (from the Debian archive), leaving apt's own daily upgrades off.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { updateToolsConcern } from '../../../src/concerns/updates/tools.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { applyAll, planAll } from '../../../src/core/runner.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { parseDpkgStatus } from '../../../src/pkg/dpkg-status.ts';
import { runCli } from '../../support/cli.ts';
import { DEBIAN_ROOT } from '../../support/paths.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';
import { concernContext } from '../../support/concern-context.ts';

const INSTALL_TIMEOUT_MS = 10 * 60_000;

test(
  'Debian root without unattended-upgrades: check names it; the planned steps install it, daily upgrades off',
  { timeout: INSTALL_TIMEOUT_MS },
  async (t) => {
    requireRoot();
    assert.ok(
      existsSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`),
      'the debootstrap fixture is missing: run npm test, whose setup builds it',
    );
    const root = `${scratchDir(t, 'updates-tools-')}/root`;
    execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
    const installed = () =>
      parseDpkgStatus(readFileSync(`${root}/var/lib/dpkg/status`, 'utf8')).get('unattended-upgrades')?.installed ===
      true;
    assert.equal(installed(), false, 'the fixture lacks it, as a minimal image does');

    const check = await runCli(['updates', 'check', '--root', root]);
    assert.equal(check.status, 1);
    assert.match(
      check.stderr,
      /security updates: unattended-upgrade is not installed \(package unattended-upgrades\), so security updates c/,
    );
    assert.doesNotMatch(check.stderr, /ENOENT|could not be started/);

    const plan = await runCli(['plan', '--json', '--root', root]);
    const updates = JSON.parse(plan.stdout).concerns.find(
      (concern: { concern: string }) => concern.concern === 'updates',
    );
    assert.deepEqual(
      updates?.actions.map((action: { summary: string }) => action.summary),
      [
        'answer debconf for unattended-upgrades before installing',
        'install unattended-upgrades (the updates job runs unattended-upgrade)',
      ],
    );

    // The updates concern alone, as apply runs it: the real debconf and apt in the root.
    const host = new RealHost(root);
    const config = loadConfig({ file: 'agent.env', fileText: null, env: {}, flags: {} });
    const context = await concernContext(host, config);
    const [outcome] = await applyAll([updateToolsConcern], context);
    assert.equal(outcome?.error, undefined);
    assert.equal(outcome?.applied, 2);
    assert.equal(installed(), true);
    assert.equal(
      existsSync(`${root}/etc/apt/apt.conf.d/20auto-upgrades`),
      false,
      "apt's daily unattended upgrades were not switched on",
    );
    assert.equal(existsSync(`${root}/usr/sbin/policy-rc.d`), false, 'the temporary policy-rc.d is gone');
    assert.deepEqual((await planAll([updateToolsConcern], context))[0]?.actions, [], 'a second run plans nothing');

    const after = await runCli(['updates', 'check', '--json', '--root', root]);
    assert.equal(after.status, 0, after.stderr);
    assert.equal(JSON.parse(after.stdout).manager, 'apt');
  },
);

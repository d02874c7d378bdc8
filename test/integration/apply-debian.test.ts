import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { parseDpkgStatus } from '../../src/pkg/dpkg-status.ts';
import { runCli } from '../support/cli.ts';
import { DEBIAN_ROOT } from '../support/paths.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';
import { buildSignedEcsInitDeb, serveBucket } from '../support/signed-deb.ts';

const VERSION = '1.99.0-1';
/** apt downloads docker.io and its dependencies from the Debian archive. */
const APPLY_TIMEOUT_MS = 20 * 60_000;

function installed(root: string): Map<string, { installed: boolean }> {
  return parseDpkgStatus(readFileSync(`${root}/var/lib/dpkg/status`, 'utf8'));
}

test(
  'Debian image root: real apt installs docker.io, a signed ecs-init .deb is verified and ' +
    'installed, a tampered one refused',
  async (t) => {
    requireRoot();
    assert.ok(
      existsSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`),
      'the debootstrap fixture is missing: run npm test, whose setup builds it',
    );
    const work = scratchDir(t);
    const root = `${work}/root`;
    execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
    const deb = buildSignedEcsInitDeb(work, VERSION);
    const bucket = await serveBucket();
    t.after(() => bucket.close());
    const env = { ECSINIT_BASE_URL: bucket.url, ECSINIT_SIGNING_KEY: deb.keyFile, ECS_CLUSTER: 'bake-test' };
    const args = ['apply', '--root', root, '--ecs-init-version', VERSION];

    const tampered = Buffer.from(deb.deb);
    tampered[tampered.length - 100] = (tampered[tampered.length - 100] ?? 0) ^ 0xff;
    bucket.files.set(deb.fileName, tampered).set(`${deb.fileName}.asc`, deb.signature);
    const refused = await runCli(args, env, APPLY_TIMEOUT_MS);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(
      refused.stdout,
      /^ecs: FAILED after 0 of \d steps: bad or missing signature on .*amazon-ecs-init-1\.99\.0-1\.amd64\.deb/m,
    );
    assert.equal(installed(root).get('amazon-ecs-init'), undefined, 'nothing of the tampered package is installed');
    assert.equal(existsSync(`${root}/var/cache/ecs-host-agent`), false, 'the refused download is removed');
    assert.equal(existsSync(`${root}/var/lib/ecs-host-agent/ecs-init-installed-by-agent`), false);
    assert.equal(installed(root).get('docker.io')?.installed, true, 'the docker concern did its own work');

    bucket.files.set(deb.fileName, deb.deb);
    const applied = await runCli(args, env, APPLY_TIMEOUT_MS);
    assert.equal(applied.status, 0, applied.stderr);
    assert.match(
      applied.stdout,
      /^registration: not verified: an image root registers when an instance boots from it$/m,
    );
    assert.equal(installed(root).get('amazon-ecs-init')?.installed, true);
    assert.match(readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8'), /^ECS_CLUSTER=bake-test$/m);
    for (const unit of ['docker.service', 'ecs.service']) {
      assert.equal(
        execFileSync('systemctl', [`--root=${root}`, 'is-enabled', unit], { encoding: 'utf8' }).trim(),
        'enabled',
        unit,
      );
    }
    assert.equal(existsSync(`${root}/usr/sbin/policy-rc.d`), false, 'the temporary policy-rc.d is gone');
    assert.equal(existsSync('/etc/ecs/ecs.config'), false, 'this machine is untouched');

    const second = await runCli(['plan', '--json', '--root', root, '--ecs-init-version', VERSION], env);
    assert.equal(second.status, 0, second.stderr);
    for (const concern of JSON.parse(second.stdout).concerns)
      assert.deepEqual(concern.actions, [], `${concern.concern} plans nothing`);
  },
);

/**
 * The Packer template and its scripts, as far as this machine can take them without AWS: Debian's packer
 * validates the template (builder and provisioner settings included), shellcheck the scripts, and the scripts
 * run in a chroot of a Debian root as Packer's amazon-chroot builder runs them, with no network: the package is
 * installed and enabled with nothing started, the image's own agent plans the image root from outside, and the
 * clean-up leaves no cache or identity behind.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { test } from 'node:test';

import { buildAgentDeb, gpgStandIn } from '../../support/agent-container.ts';
import { OFFLINE_ENV } from '../../support/offline-env.ts';
import { DEBIAN_ROOT, REPO } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';

const PACKER_DIR = `${REPO}packaging/packer`;
const SCRIPTS = ['install-package.sh', 'clean-image.sh'];
const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

test('packer validate accepts the template for an Ubuntu amd64 and an Amazon Linux 2023 arm64 image', (t) => {
  const dir = scratchDir(t);
  // Debian's packer (1.6.6) has the amazon builders built in and predates the packer { required_plugins }
  // block (1.7), which `packer init` reads: that block is left out, everything else is validated as written.
  const template = readFileSync(`${PACKER_DIR}/ecs-host.pkr.hcl`, 'utf8');
  const withoutPluginBlock = template.replace(/^packer \{\n[\s\S]*?\n\}\n/m, '');
  assert.notEqual(withoutPluginBlock, template, 'the template declares its plugin');
  writeFileSync(`${dir}/ecs-host.pkr.hcl`, withoutPluginBlock);
  for (const script of SCRIPTS) execFileSync('cp', ['--', `${PACKER_DIR}/${script}`, dir]);
  writeFileSync(`${dir}/ecs-host-agent_0.1.0-1_arm64.rpm`, '');
  const variants = [
    ['-var', `package_file=${dir}/ecs-host-agent_0.1.0-1_arm64.rpm`],
    [
      '-var',
      `package_file=${dir}/ecs-host-agent_0.1.0-1_arm64.rpm`,
      '-var',
      'architecture=arm64',
      '-var',
      'source_ami_name=al2023-ami-2023.*-kernel-6.1-arm64',
      '-var',
      'source_ami_owner=137112412989',
    ],
  ];
  for (const variant of variants) {
    // No network at all (packer would otherwise look for updates).
    const validated = spawnSync(
      'unshare',
      [
        '--net',
        'packer',
        'validate',
        '-var',
        'region=eu-west-1',
        '-var',
        'ecs_cluster=production',
        ...variant,
        'ecs-host.pkr.hcl',
      ],
      {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH, HOME: dir, CHECKPOINT_DISABLE: '1' },
      },
    );
    assert.equal(validated.status, 0, `${validated.stdout}${validated.stderr}`);
  }
});

test('shellcheck finds nothing in the Packer scripts', () => {
  for (const script of SCRIPTS) {
    const checked = spawnSync('shellcheck', ['--', `${PACKER_DIR}/${script}`], { encoding: 'utf8' });
    assert.equal(checked.status, 0, `${script}:\n${checked.stdout}`);
  }
});

test("the Packer scripts in a chroot: enabled, nothing started, planned by the image's agent, cleaned", async (t) => {
  const deb = await buildAgentDeb(t);
  const root = `${scratchDir(t)}/image`;
  execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
  // The build instance's systemd shows through the chroot, as on a real build host; every systemctl call recorded.
  mkdirSync(`${root}/run/systemd/system`, { recursive: true });
  // (In /usr/bin: apt runs dpkg with its own PATH, without /usr/local.)
  assert.equal(existsSync(`${root}/usr/bin/systemctl`), false);
  writeFileSync(`${root}/usr/bin/systemctl`, '#!/bin/sh\necho "$*" >> /var/log/systemctl-calls\n', { mode: 0o755 });
  // gpg, which the package needs, cannot be downloaded here: a stand-in of the same name is installed first.
  execFileSync('cp', ['--', gpgStandIn(t), `${root}/var/tmp/gpg.deb`]);
  execFileSync('chroot', [root, 'dpkg', '-i', '/var/tmp/gpg.deb'], { env: { PATH }, stdio: 'ignore' });
  const packageInImage = `/tmp/${basename(deb)}`;
  execFileSync('cp', ['--', deb, `${root}${packageInImage}`]);
  for (const script of SCRIPTS) execFileSync('cp', ['--', `${PACKER_DIR}/${script}`, `${root}/var/tmp/${script}`]);
  const inImage = (script: string, env: Record<string, string> = {}) =>
    spawnSync('unshare', ['--net', 'chroot', root, '/bin/sh', `/var/tmp/${script}`], {
      encoding: 'utf8',
      env: { PATH, LANG: 'C', ...env },
    });

  const installed = inImage('install-package.sh', { PACKAGE: packageInImage, ECS_CLUSTER: 'production' });
  assert.equal(installed.status, 0, `${installed.stdout}${installed.stderr}`);
  // Where systemctl exists, deb-systemd-helper enables through it (preset); nothing else is asked of it.
  const calls = readFileSync(`${root}/var/log/systemctl-calls`, 'utf8').trim().split('\n');
  assert.deepEqual(
    calls.filter((call) => call !== 'daemon-reload'),
    ['ecs-host-agent-decommission.service', 'ecs-host-agent.service'].map(
      (unit) => `--root=/ --system --preset-mode=enable-only preset ${unit}`,
    ),
    'enabled, nothing started',
  );
  assert.equal(existsSync(`${root}/usr/sbin/policy-rc.d`), false, 'the policy is removed again');
  assert.equal(existsSync(`${root}${packageInImage}`), false, 'the package file is not left in the image');
  assert.equal(readFileSync(`${root}/etc/ecs-host-agent/agent.env`, 'utf8'), 'ECS_CLUSTER=production\n');

  // The template's own shell-local step, as Packer runs it (sh -e), with plan instead of apply: this machine
  // may not change anything.
  const step = shellLocalStep(readFileSync(`${PACKER_DIR}/ecs-host.pkr.hcl`, 'utf8'), {
    mount_path: root,
    region: 'eu-west-1',
  });
  assert.match(step, / apply --root /);
  const planned = spawnSync(
    'unshare',
    ['--net', '/bin/sh', '-e', '-c', step.replace(' apply --root ', ' plan --root ')],
    {
      encoding: 'utf8',
      // The step sets AWS_REGION itself.
      env: { PATH, ...OFFLINE_ENV },
    },
  );
  assert.equal(planned.status, 0, `${planned.stdout}${planned.stderr}`);
  assert.match(planned.stdout, /install Docker/);
  assert.match(planned.stdout, /\+ ECS_CLUSTER=production/);
  assert.match(
    planned.stdout,
    /verify the signature with .*\/usr\/lib\/ecs-host-agent\/keys\/amazon-ecs-agent\.asc/,
    "the image's own key",
  );

  mkdirSync(`${root}/var/cache/ecs-host-agent`, { recursive: true });
  writeFileSync(`${root}/var/cache/ecs-host-agent/amazon-ecs-init-latest.amd64.deb`, 'a download of the build');
  writeFileSync(`${root}/etc/machine-id`, '0123456789abcdef0123456789abcdef\n');
  const cleaned = inImage('clean-image.sh');
  assert.equal(cleaned.status, 0, `${cleaned.stdout}${cleaned.stderr}`);
  assert.equal(existsSync(`${root}/var/cache/ecs-host-agent`), false);
  assert.equal(readFileSync(`${root}/etc/machine-id`, 'utf8'), '', 'every instance gets its own machine id');
});

/** The inline lines of the template's shell-local provisioner, HCL string escapes and variables resolved. */
function shellLocalStep(template: string, variables: Record<string, string>): string {
  const block = /provisioner "shell-local" \{\s*inline = \[\n([\s\S]*?)\n\s*\]/.exec(template)?.[1];
  assert.ok(block, 'the template has a shell-local inline step');
  return block
    .split('\n')
    .map((line) => JSON.parse(line.trim().replace(/,$/, '')) as string)
    .map((line) => line.replace(/\$\{var\.(\w+)\}/g, (_, name: string) => variables[name] ?? `<${name}?>`))
    .join('\n');
}

/**
 * packaging/user-data.sh and the maintainer scripts, checked by shellcheck, and the user-data script run as
 * cloud-init would (bash, as root) in a chroot of a minimal Debian root, which like a stock Debian image has
 * no AWS CLI: what it lacks is named, and bad input or a tampered package changes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { maintainerScript } from '../../../packaging/build/scripts.ts';
import { DEBIAN_ROOT, REPO } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';

const USER_DATA = `${REPO}packaging/user-data.sh`;
const PARTS = ['deb/postinst', 'deb/prerm', 'deb/postrm', 'rpm/post.sh', 'rpm/preun.sh', 'rpm/postun.sh'];

function shellcheck(file: string, shell?: string) {
  return spawnSync('shellcheck', [...(shell ? ['--shell', shell] : []), '--', file], { encoding: 'utf8' });
}

test('shellcheck finds nothing in user-data.sh, the wrapper or any maintainer script as shipped', (t) => {
  const dir = scratchDir(t);
  for (const file of [USER_DATA, `${REPO}packaging/wrapper.sh`]) {
    const checked = shellcheck(file);
    assert.equal(checked.status, 0, `${file}:\n${checked.stdout}${checked.stderr}`);
  }
  for (const part of PARTS) {
    const file = `${dir}/${part.replace('/', '-')}`;
    writeFileSync(file, maintainerScript(part));
    const checked = shellcheck(file, 'sh');
    assert.equal(checked.status, 0, `${part}:\n${checked.stdout}${checked.stderr}`);
  }
});

/** A copy of the Debian root with the user-data script, its settings edited as a user would. */
function rootWithUserData(t: Parameters<typeof scratchDir>[0], settings: Record<string, string>): string {
  const root = `${scratchDir(t)}/root`;
  execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
  let script = readFileSync(USER_DATA, 'utf8');
  for (const [name, value] of Object.entries(settings)) {
    assert.match(script, new RegExp(`^${name}=`, 'm'), `user-data.sh sets ${name}`);
    script = script.replace(new RegExp(`^${name}=.*$`, 'm'), `${name}=${value}`);
  }
  writeFileSync(`${root}/var/tmp/user-data`, script, { mode: 0o700 });
  return root;
}

function runUserData(root: string) {
  const result = spawnSync('chroot', [root, '/bin/bash', '/var/tmp/user-data'], {
    encoding: 'utf8',
    env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' },
  });
  return { status: result.status, stderr: result.stderr };
}

function assertNothingChanged(root: string): void {
  assert.equal(existsSync(`${root}/etc/ecs-host-agent`), false, 'no configuration written');
  assert.equal(existsSync(`${root}/usr/bin/ecs-host-agent`), false, 'nothing installed');
}

test('user-data without the AWS CLI: an s3:// folder or a token parameter is refused, naming it', (t) => {
  assert.equal(existsSync(`${DEBIAN_ROOT}/usr/bin/aws`), false);
  const s3 = rootWithUserData(t, { PACKAGE_FOLDER: 's3://my-bucket/ecs-host-agent/0.1.0-1' });
  const fromS3 = runUserData(s3);
  assert.equal(fromS3.status, 1, 'a clear failure, not 127');
  assert.match(
    fromS3.stderr,
    new RegExp(
      '^ecs-host-agent user-data: aws is not installed on this image; ' +
        "PACKAGE_FOLDER is an s3:// URL, which needs the AWS CLI; .*use the folder's https:// URL",
      'm',
    ),
  );
  assertNothingChanged(s3);

  const token = rootWithUserData(t, { CONTROL_TOKEN_PARAMETER: '/ecs-host-agent/control-token' });
  stubCurl(token, `${scratchDir(t)}/empty`);
  const withToken = runUserData(token);
  assert.equal(withToken.status, 1);
  assert.match(
    withToken.stderr,
    /aws is not installed on this image; CONTROL_TOKEN_PARAMETER is read with the AWS CLI/,
  );
  assertNothingChanged(token);
});

test('user-data without curl names it; a package that does not match SHA256SUMS is not installed', (t) => {
  assert.equal(existsSync(`${DEBIAN_ROOT}/usr/bin/curl`), false, 'minbase has no curl');
  const noCurl = rootWithUserData(t, {});
  const refused = runUserData(noCurl);
  assert.equal(refused.status, 1);
  assert.match(
    refused.stderr,
    /^ecs-host-agent user-data: curl is not installed on this image; it downloads the package/m,
  );
  assertNothingChanged(noCurl);

  const folder = `${scratchDir(t)}/folder`;
  mkdirSync(folder);
  const file = 'ecs-host-agent_0.1.0-1_amd64.deb';
  writeFileSync(`${folder}/${file}`, 'not the package that was published\n');
  writeFileSync(`${folder}/SHA256SUMS`, `${'0'.repeat(64)}  ${file}\n`);
  const tampered = rootWithUserData(t, {});
  stubCurl(tampered, folder);
  const result = runUserData(tampered);
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    new RegExp(`ecs-host-agent user-data: ${file.replaceAll('.', '\\.')} does not match SHA256SUMS: not installed`),
  );
  assertNothingChanged(tampered);
});

/** A curl that "downloads" from a directory of this machine: the file named by the URL's last segment. */
function stubCurl(root: string, folder: string): void {
  mkdirSync(`${root}/usr/local/bin`, { recursive: true });
  mkdirSync(`${root}/var/tmp/folder`, { recursive: true });
  if (existsSync(folder)) execFileSync('cp', ['-a', '--', `${folder}/.`, `${root}/var/tmp/folder/`]);
  const script = [
    '#!/bin/sh',
    'out=',
    'while [ $# -gt 1 ]; do [ "$1" = -o ] && out=$2; shift; done',
    'cp "/var/tmp/folder/${1##*/}" "$out"',
    '',
  ];
  writeFileSync(`${root}/usr/local/bin/curl`, script.join('\n'), { mode: 0o755 });
}

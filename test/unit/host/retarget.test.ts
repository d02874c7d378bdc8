import assert from 'node:assert/strict';
import { test } from 'node:test';

import { retarget } from '../../../src/host/retarget.ts';

test('on this machine every command runs as given', () => {
  assert.deepEqual(retarget('/', 'apt-get', ['install', '-y', '--', 'docker.io']), [
    'apt-get',
    ['install', '-y', '--', 'docker.io'],
  ]);
});

test('under an image root, package and account tools are pointed at it', () => {
  const cases: [string, string[], [string, string[]]][] = [
    ['apt-get', ['install', '-y'], ['chroot', ['/img', 'apt-get', 'install', '-y']]],
    ['dpkg', ['-i', '/tmp/x.deb'], ['chroot', ['/img', 'dpkg', '-i', '/tmp/x.deb']]],
    ['dnf', ['install', '-y', '--', 'docker'], ['dnf', ['--installroot=/img', 'install', '-y', '--', 'docker']]],
    ['zypper', ['--non-interactive', 'install'], ['zypper', ['--root', '/img', '--non-interactive', 'install']]],
    ['rpm', ['-q', 'docker'], ['rpm', ['--root', '/img', '-q', 'docker']]],
    ['useradd', ['-m', '--', 'alice'], ['useradd', ['--root', '/img', '-m', '--', 'alice']]],
    ['systemctl', ['enable', 'docker.service'], ['systemctl', ['--root=/img', 'enable', 'docker.service']]],
  ];
  for (const [file, args, expected] of cases) assert.deepEqual(retarget('/img', file, args), expected, file);
});

test('other tools run on this machine unchanged even under an image root', () => {
  assert.deepEqual(retarget('/img', 'mkfs.btrfs', ['-L', 'docker', '/img/f']), [
    'mkfs.btrfs',
    ['-L', 'docker', '/img/f'],
  ]);
});

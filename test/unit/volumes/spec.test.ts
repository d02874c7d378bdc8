import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';

const volumesOf = (value: string) =>
  loadConfig({ file: 'agent.env', fileText: `VOLUMES=${value}\n`, env: {}, flags: {} }).VOLUMES;

test('VOLUMES: entries by volume id or device, filesystem, mount point and options (which may hold ":")', () => {
  assert.deepEqual(
    volumesOf('vol-0123456789abcdef0:xfs:/data:noatime,context=system_u:object_r:x;/dev/nvme2n1:ext4:/srv/logs/'),
    [
      {
        device: 'vol-0123456789abcdef0',
        fstype: 'xfs',
        mountPoint: '/data',
        options: 'noatime,context=system_u:object_r:x',
      },
      { device: '/dev/nvme2n1', fstype: 'ext4', mountPoint: '/srv/logs', options: 'defaults' },
    ],
  );
  assert.deepEqual(volumesOf(''), []);
});

test('VOLUMES: bad entries are config errors naming the problem and the form', () => {
  const cases: [string, RegExp][] = [
    ['sdb:xfs:/data', /device "sdb" that is neither a \/dev path nor an EBS volume id/],
    ['/dev/sdb:zfs:/data', /filesystem "zfs".*FSTYPE one of xfs, ext4, btrfs/],
    ['/dev/sdb:xfs:data', /mount point "data" that is not an absolute path/],
    ['/dev/sdb:xfs:/var/lib/docker', /mount point \/var\/lib\/docker, which belongs to the system/],
    ['/dev/sdb:xfs:/', /mount point \/, which belongs to the system/],
    ['/dev/sdb:xfs:/data;/dev/sdc:xfs:/data', /names \/data twice/],
    ['/dev/sdb:xfs:/a;/dev/sdb:ext4:/b', /names \/dev\/sdb twice/],
    ['/dev/sdb:xfs:/data:a b', /mount options "a b"/],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => volumesOf(value),
      (error: Error) => {
        assert.equal(error.name, 'ConfigError');
        assert.match(error.message, /^agent\.env:1: VOLUMES=/);
        assert.match(error.message, message);
        return true;
      },
    );
  }
});

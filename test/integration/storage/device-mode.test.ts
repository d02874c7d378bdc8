import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { STORE } from '../../../src/concerns/storage/settings.ts';
import { attachLoop, mountableScratch } from '../../support/loop-device.ts';
import { liveScratch } from './live-scratch.ts';

/** A loop device over a fresh 1 GiB sparse file, standing in for an EBS volume, holding ext4. */
function ext4Volume(t: Parameters<typeof mountableScratch>[0]): string {
  const dir = mountableScratch(t, 'eha-volume-');
  writeFileSync(`${dir}/volume.img`, '');
  execFileSync('truncate', ['--size', '1G', '--', `${dir}/volume.img`]);
  const device = attachLoop(t, `${dir}/volume.img`);
  execFileSync('mkfs.ext4', ['-q', '-L', 'someone-elses', '--', device]);
  return device;
}

function signature(device: string): string {
  return execFileSync('blkid', ['-p', '-o', 'export', '--', device], { encoding: 'utf8' });
}

test('device mode refuses a device holding ext4, and changes nothing', async (t) => {
  const device = ext4Volume(t);
  const system = await liveScratch(t, `STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=${device}\n`);
  await assert.rejects(
    system.plan(),
    new RegExp(
      `refusing to format ${device}: it holds a ext4 ` +
        `filesystem labelled "someone-elses"; set STORAGE_FORCE_FORMAT=yes`,
    ),
  );
  assert.match(signature(device), /^TYPE=ext4$/m);
});

test(
  'device mode with STORAGE_FORCE_FORMAT=yes formats, mounts and persists with a mount unit; then ' + 'nothing to do',
  async (t) => {
    const device = ext4Volume(t);
    const system = await liveScratch(
      t,
      `STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=${device}\nSTORAGE_FORCE_FORMAT=yes\n`,
    );
    const actions = await system.converge();
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['format', 'write-mount-unit', 'switch'],
    );

    const probed = signature(device);
    assert.match(probed, /^TYPE=btrfs$/m);
    assert.match(probed, new RegExp(`^LABEL=${STORE.label}$`, 'm'));
    const uuid = /^UUID=(.+)$/m.exec(probed)?.[1];
    const mounted = execFileSync(
      'findmnt',
      ['--noheadings', '--output', 'SOURCE', '--mountpoint', system.path(STORE.mountPoint)],
      { encoding: 'utf8' },
    );
    assert.equal(mounted.trim(), device);

    const unit = readFileSync(system.path(STORE.mountUnit), 'utf8');
    assert.match(unit, new RegExp(`^What=/dev/disk/by-uuid/${uuid}$`, 'm'));
    assert.match(unit, /^Before=docker\.service$/m);
    const link = system.path(STORE.mountUnitEnabledLink);
    assert.ok(lstatSync(link).isSymbolicLink(), 'enabled by systemctl --root');
    assert.equal(readlinkSync(link), STORE.mountUnit);
    assert.equal(
      readFileSync(system.path('/etc/fstab'), 'utf8').includes(STORE.mountPoint),
      false,
      'no fstab line in device mode',
    );

    assert.deepEqual(
      await system.plan(),
      [],
      'after apply, plan(gather()) is empty: the Btrfs it made is never formatted again',
    );
  },
);

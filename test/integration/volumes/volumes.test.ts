/**
 * The volumes concern for real on loop devices standing in for EBS volumes,
 * on a scratch directory played as a running Debian 12 system (fstab and
 * mount points below it): mkfs.xfs / mkfs.ext4, mount, fstab by UUID, a
 * second apply that finds nothing to do, and refusal of a used device.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { createVolumesConcern } from '../../../src/concerns/volumes/index.ts';
import type { VolumesAction } from '../../../src/concerns/volumes/plan.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { attachLoop, mountableScratch, mountsBelow } from '../../support/loop-device.ts';
import { FIXTURES } from '../../support/paths.ts';
import { concernContext } from '../../support/concern-context.ts';

const concern = createVolumesConcern({ live: () => true });

interface Scratch {
  readonly root: string;
  /** A loop device over a sparse file of size bytes. */
  loop(size: number): string;
  context(volumes: string): Promise<ConcernContext>;
}

function scratchSystem(t: TestContext): Scratch {
  const root = mountableScratch(t, 'eha-volumes-');
  cpSync(`${FIXTURES}/os/debian-12`, root, { recursive: true });
  mkdirSync(`${root}/var/lib/dpkg`, { recursive: true });
  writeFileSync(
    `${root}/var/lib/dpkg/status`,
    ['xfsprogs', 'e2fsprogs'].map((name) => `Package: ${name}\nStatus: install ok installed\nVersion: 1\n`).join('\n'),
  );
  writeFileSync(`${root}/etc/fstab`, '# <file system> <mount point> <type> <options> <dump> <pass>\n');
  let disks = 0;
  return {
    root,
    loop(size) {
      const file = `${root}/disk${disks++}.img`;
      execFileSync('truncate', ['--size', String(size), '--', file]);
      return attachLoop(t, file);
    },
    async context(volumes) {
      const host = new RealHost(root);
      const config = loadConfig({ file: 'agent.env', fileText: `VOLUMES=${volumes}\n`, env: {}, flags: {} });
      return await concernContext(host, config);
    },
  };
}

async function planOf(context: ConcernContext): Promise<VolumesAction[]> {
  return concern.plan(await concern.gather(context), context);
}

async function converge(context: ConcernContext): Promise<VolumesAction[]> {
  const actions = await planOf(context);
  for (const action of actions) await concern.apply(action, context);
  return actions;
}

const uuidOf = (device: string) =>
  execFileSync('blkid', ['-s', 'UUID', '-o', 'value', '--', device], { encoding: 'utf8' }).trim();

test(
  'empty loop devices are formatted (xfs, ext4), persisted by UUID with nofail and mounted; a ' +
    'second apply does nothing',
  async (t) => {
    const system = scratchSystem(t);
    const [xfs, ext4] = [system.loop(320 * 2 ** 20), system.loop(64 * 2 ** 20)];
    const context = await system.context(`${xfs}:xfs:/data:noatime;${ext4}:ext4:/srv/logs`);

    assert.deepEqual(
      (await converge(context)).map((a) => a.kind),
      ['format', 'persist', 'mount', 'format', 'persist', 'mount'],
    );
    assert.deepEqual(mountsBelow(system.root).sort(), [`${system.root}/data`, `${system.root}/srv/logs`]);
    const fstab = readFileSync(`${system.root}/etc/fstab`, 'utf8');
    assert.match(fstab, new RegExp(`^UUID=${uuidOf(xfs)} /data xfs noatime,nofail 0 2$`, 'm'));
    assert.match(fstab, new RegExp(`^UUID=${uuidOf(ext4)} /srv/logs ext4 defaults,nofail 0 2$`, 'm'));

    writeFileSync(`${system.root}/data/kept`, 'data');
    assert.deepEqual(await planOf(context), [], 'after apply, plan(gather()) is empty');
    assert.equal(readFileSync(`${system.root}/data/kept`, 'utf8'), 'data');
  },
);

test('a volume already holding the filesystem is mounted with its data, not formatted', async (t) => {
  const system = scratchSystem(t);
  const device = system.loop(64 * 2 ** 20);
  execFileSync('mkfs.ext4', ['-q', '--', device]);
  const uuid = uuidOf(device);
  const context = await system.context(`${device}:ext4:/data`);
  assert.deepEqual(
    (await converge(context)).map((a) => a.kind),
    ['persist', 'mount'],
  );
  assert.equal(uuidOf(device), uuid, 'the same filesystem');
  assert.deepEqual(await planOf(context), []);
});

test('a device holding another filesystem is refused and left untouched', async (t) => {
  const system = scratchSystem(t);
  const device = system.loop(128 * 2 ** 20);
  execFileSync('mkfs.btrfs', ['-q', '--', device]);
  const uuid = uuidOf(device);
  const context = await system.context(`${device}:xfs:/data`);
  await assert.rejects(
    planOf(context),
    /refusing to use .* for \/data: it holds a btrfs filesystem, not an xfs filesystem/,
  );
  assert.equal(uuidOf(device), uuid);
  assert.deepEqual(mountsBelow(system.root), []);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ConcernContext } from '../../../src/core/concern.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { createVolumesConcern, volumesConcern } from '../../../src/concerns/volumes/index.ts';
import type { VolumesAction } from '../../../src/concerns/volumes/plan.ts';
import { FakeMachine, storageContext } from '../storage/fake-machine.ts';

const volumes = createVolumesConcern({ live: () => true });
const VOLUME = 'vol-0123456789abcdef0';
const XFS_DATA = `VOLUMES=${VOLUME}:xfs:/data:noatime\n`;
const kinds = (actions: readonly VolumesAction[]) => actions.map((a) => a.kind);

/** A host with the mkfs tools installed and a 1 GiB NVMe EBS volume attached. */
function machineWith(signature?: { TYPE?: string; UUID?: string; PTTYPE?: string }): FakeMachine {
  const machine = new FakeMachine().addDisk('/dev/nvme1n1', signature, 'vol0123456789abcdef0');
  machine.host.putFile(
    '/var/lib/dpkg/status',
    ['xfsprogs', 'e2fsprogs', 'btrfs-progs']
      .map((name) => `Package: ${name}\nStatus: install ok installed\nVersion: 1\n`)
      .join('\n'),
  );
  machine.host.putFile('/etc/fstab', '/dev/vda1 / ext4 defaults 0 1\n');
  machine.host.onExec((file, args) => {
    if (!/^mkfs\.(xfs|ext4)$/.test(file)) return undefined;
    const device = args.at(-1) as string;
    if (machine.signatures.has(device))
      return { exitCode: 1, stdout: '', stderr: 'appears to contain an existing filesystem' };
    machine.signatures.set(device, { TYPE: file.slice(5), UUID: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' });
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  return machine;
}

async function planOf(context: ConcernContext): Promise<VolumesAction[]> {
  return volumes.plan(await volumes.gather(context), context);
}

async function converge(context: ConcernContext): Promise<VolumesAction[]> {
  const actions = await planOf(context);
  for (const action of actions) await volumes.apply(action, context);
  return actions;
}

test('an empty EBS volume, found by its id: format, persist by UUID with nofail, mount; then nothing', async () => {
  const machine = machineWith();
  const context = await storageContext(machine, XFS_DATA);
  const actions = await converge(context);
  assert.deepEqual(kinds(actions), ['format', 'persist', 'mount']);
  assert.equal(actions[0]?.summary, `format ${VOLUME} (/dev/nvme1n1) as xfs (it is empty)`);
  assert.ok(machine.host.commands().includes('mkfs.xfs -- /dev/nvme1n1'));
  assert.equal(
    machine.host.text('/etc/fstab'),
    '/dev/vda1 / ext4 defaults 0 1\nUUID=aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee /data xfs noatime,nofail 0 2\n',
  );
  assert.ok(machine.host.commands().includes('mount -t xfs -o noatime -- /dev/nvme1n1 /data'));
  assert.equal(machine.mounts.get('/data'), '/dev/nvme1n1');
  assert.deepEqual(await planOf(context), [], 'after apply, plan(gather()) is empty');
});

test(
  'a volume that already holds the filesystem asked for keeps its data: persisted and mounted, ' + 'never formatted',
  async () => {
    const machine = machineWith({ TYPE: 'ext4', UUID: '12345678-1234-1234-1234-123456789abc' });
    const context = await storageContext(machine, 'VOLUMES=/dev/nvme1n1:ext4:/srv/logs\n');
    assert.deepEqual(kinds(await converge(context)), ['persist', 'mount']);
    assert.ok(!machine.host.commands().some((c) => c.startsWith('mkfs')));
    assert.match(
      machine.host.text('/etc/fstab') ?? '',
      /^UUID=12345678-1234-1234-1234-123456789abc \/srv\/logs ext4 defaults,nofail 0 2$/m,
    );
    assert.deepEqual(await planOf(context), []);
  },
);

test(
  'a volume holding another filesystem or a partition table is refused, naming what it holds; ' + 'nothing runs',
  async () => {
    for (const [signature, found] of [
      [{ TYPE: 'ext4', UUID: 'u' }, /it holds a ext4 filesystem, not an xfs filesystem/],
      [{ PTTYPE: 'gpt' }, /it holds a gpt partition table/],
    ] as const) {
      const machine = machineWith(signature);
      await assert.rejects(planOf(await storageContext(machine, XFS_DATA)), found);
      assert.ok(!machine.host.commands().some((c) => /^(mkfs|mount|wipefs)/.test(c)));
    }
  },
);

test('an fstab line or a mount of something else on the mount point is left alone and refused', async () => {
  const machine = machineWith();
  machine.host.putFile('/etc/fstab', '/dev/sdz1 /data ext4 defaults 0 2\n');
  await assert.rejects(
    planOf(await storageContext(machine, XFS_DATA)),
    /\/etc\/fstab already mounts something else on \/data/,
  );
  const mounted = machineWith({ TYPE: 'xfs', UUID: 'u' });
  mounted.mounts.set('/data', '/dev/sdz1');
  await assert.rejects(planOf(await storageContext(mounted, XFS_DATA)), /\/data is already a mount of \/dev\/sdz1/);
});

test('a volume that is not attached says so', async () => {
  const machine = machineWith();
  await assert.rejects(
    planOf(await storageContext(machine, 'VOLUMES=vol-0fffffffffffffff0:xfs:/data\n')),
    /no attached block device has the serial vol0fffffffffffffff0/,
  );
});

test('missing mkfs tools are installed first; under an image root that is all', async () => {
  const machine = new FakeMachine('/image');
  const context = await storageContext(machine, 'VOLUMES=/dev/nvme1n1:xfs:/data;/dev/nvme2n1:btrfs:/cache\n');
  const actions = await volumesConcern.plan(await volumesConcern.gather(context), context);
  assert.deepEqual(kinds(actions), ['install-tools']);
  const shown = renderSteps(actions[0]?.steps ?? []);
  assert.match(shown.join('\n'), / install -y --no-install-recommends -- xfsprogs btrfs-progs\n/);
  assert.match(shown.join('\n'), /formatted and mounted by the agent on the booted instance/);
  assert.equal(volumesConcern.enabled(await storageContext(machine, '')), false);
});

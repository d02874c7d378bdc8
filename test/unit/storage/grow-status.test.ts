import assert from 'node:assert/strict';
import { test } from 'node:test';

import { growStore } from '../../../src/concerns/storage/grow.ts';
import { storageSettings, type StorageSettings } from '../../../src/concerns/storage/settings.ts';
import { storageStatus } from '../../../src/concerns/storage/status.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { UsageError } from '../../../src/core/errors.ts';
import { converge, DEVICE_MODE, FakeMachine, FILE_MODE, storageContext } from './fake-machine.ts';

async function mountedFileStore(): Promise<{
  machine: FakeMachine;
  context: ConcernContext;
  settings: StorageSettings;
}> {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  const context = await storageContext(machine, FILE_MODE);
  await converge(context);
  return { machine, context, settings: storageSettings(context.config) as StorageSettings };
}

test('status: backing, mount, usage figures and the driver Docker reports', async () => {
  const { machine, context, settings } = await mountedFileStore();
  machine.dockerDriver = 'btrfs';
  const status = await storageStatus(context, settings);
  assert.equal(status.mode, 'btrfs-file');
  assert.equal(status.backing, '/var/lib/docker-storage.btrfs');
  assert.equal(status.mounted, true);
  assert.deepEqual(status.usage, {
    deviceSize: 1073741824,
    used: 262144,
    freeEstimated: 999292928,
    dataRatio: 1,
    metadataRatio: 2,
    usedPercent: 0,
  });
  assert.equal(status.warning, null);
  assert.equal(status.dockerDriver, 'btrfs');
});

test('status without a mounted store or a Docker daemon says so instead of failing', async () => {
  const machine = new FakeMachine();
  const context = await storageContext(machine, FILE_MODE);
  const status = await storageStatus(context, storageSettings(context.config) as StorageSettings);
  assert.deepEqual([status.mounted, status.usage, status.dockerDriver, status.backingSize], [false, null, null, 0]);
});

test('grow (file): extends the file, refreshes the loop device, then lets Btrfs take the space', async () => {
  const { machine, context, settings } = await mountedFileStore();
  machine.host.putFile('/var/lib/docker-storage.btrfs', new Uint8Array(1024), 0o600);
  await growStore(context, settings, 2 * 2 ** 30);
  const loop = machine.mounts.get('/var/lib/docker');
  const commands = machine.host.commands();
  const steps = [
    `truncate --size ${2 * 2 ** 30} -- /var/lib/docker-storage.btrfs`,
    `losetup --set-capacity ${loop}`,
    'btrfs filesystem resize -- max /var/lib/docker',
  ].map((step) => commands.lastIndexOf(step));
  assert.ok(
    steps.every((index, i) => index > (steps[i - 1] ?? -1)),
    commands.join('\n'),
  );
});

test('grow refuses to shrink, needs --size for a file, and takes none for a device', async () => {
  const { machine, context, settings } = await mountedFileStore();
  machine.host.putFile('/var/lib/docker-storage.btrfs', new Uint8Array(4096), 0o600);
  await assert.rejects(
    growStore(context, settings, 1024),
    (error: Error) => error instanceof UsageError && /shrinking is refused/.test(error.message),
  );
  await assert.rejects(growStore(context, settings, null), /--size is required/);

  const device = new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1');
  const deviceContext = await storageContext(device, DEVICE_MODE);
  await converge(deviceContext);
  const deviceSettings = storageSettings(deviceContext.config) as StorageSettings;
  await assert.rejects(
    growStore(deviceContext, deviceSettings, 2 ** 31),
    /--size applies to STORAGE_MODE=btrfs-file; for a device, enlarge the EBS volume/,
  );
  await growStore(deviceContext, deviceSettings, null);
  assert.ok(device.host.commands().includes('btrfs filesystem resize -- max /var/lib/docker'));
});

test('grow before apply says the store is not mounted', async () => {
  const machine = new FakeMachine();
  const context = await storageContext(machine, FILE_MODE);
  await assert.rejects(
    growStore(context, storageSettings(context.config) as StorageSettings, 2 ** 31),
    /is not mounted on \/var\/lib\/docker; run apply first/,
  );
});

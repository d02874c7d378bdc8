import assert from 'node:assert/strict';
import { test } from 'node:test';

import { storageConcern } from '../../../src/concerns/storage/index.ts';
import { FormatRefusedError, type StorageAction } from '../../../src/concerns/storage/plan.ts';
import { STORE } from '../../../src/concerns/storage/settings.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { converge, DEVICE_MODE, FakeMachine, FILE_MODE, planOf, storage, storageContext } from './fake-machine.ts';

const kinds = (actions: readonly { kind: string }[]) => actions.map((a) => a.kind);

test('file mode on a fresh host: tools, sparse file, mkfs, fstab, mount and daemon.json; then nothing', async () => {
  const machine = new FakeMachine();
  machine.host.putFile(STORE.fstab, '/dev/vda1 / ext4 defaults 0 1\n');
  machine.host.putFile(STORE.daemonJson, '{ "log-driver": "journald" }\n');
  const context = await storageContext(machine, FILE_MODE);

  const actions = await converge(context);
  assert.deepEqual(kinds(actions), ['install-tools', 'create-file', 'format', 'write-fstab', 'switch']);
  assert.equal(machine.host.files.get('/var/lib/docker-storage.btrfs')?.mode, 0o600);
  assert.ok(machine.host.commands().includes('truncate --size 1073741824 -- /var/lib/docker-storage.btrfs'));
  assert.ok(machine.host.commands().includes(`mkfs.btrfs --label ${STORE.label} -- /var/lib/docker-storage.btrfs`));
  assert.equal(
    machine.host.text(STORE.fstab),
    '/dev/vda1 / ext4 defaults 0 1\n/var/lib/docker-storage.btrfs /var/lib/docker btrfs ' +
      'loop,x-systemd.before=docker.service,x-systemd.required-by=docker.service 0 0\n',
  );
  assert.deepEqual(JSON.parse(machine.host.text(STORE.daemonJson) as string), {
    'log-driver': 'journald',
    'storage-driver': 'btrfs',
  });
  assert.match(machine.mounts.get(STORE.mountPoint) ?? '', /^\/dev\/loop\d+$/);

  assert.deepEqual(await planOf(context), [], 'after apply, plan(gather()) is empty');
});

test('every step is printable: a summary and the commands or lines behind it', async () => {
  const machine = new FakeMachine();
  const actions = await planOf(await storageContext(machine, FILE_MODE));
  for (const action of actions) {
    assert.ok(action.summary.length > 0);
    assert.ok(renderSteps(action.steps).length > 0, action.kind);
  }
  const install = renderSteps(actions[0]?.steps ?? []);
  assert.ok(install.some((line) => line.includes('apt-get') && line.includes('btrfs-progs')));
});

test('under an image root only the Btrfs tools are installed; the store is made on the booted instance', async () => {
  const machine = new FakeMachine('/image');
  const context = await storageContext(machine, FILE_MODE);
  const actions = await storageConcern.plan(await storageConcern.gather(context), context);
  assert.deepEqual(kinds(actions), ['install-tools']);
  assert.match(renderSteps(actions[0]?.steps ?? []).join('\n'), /made by the agent on the booted instance/);
  machine.installBtrfsProgs();
  assert.deepEqual(await storageConcern.plan(await storageConcern.gather(context), context), []);
  assert.ok(
    !machine.host.commands().some((c) => /^(mkfs|mount|losetup|blkid|truncate)/.test(c)),
    'nothing probed or changed',
  );
});

test('STORAGE_MODE=none disables the concern', async () => {
  const machine = new FakeMachine();
  assert.equal(storage.enabled(await storageContext(machine, '')), false);
  assert.equal(storage.enabled(await storageContext(machine, FILE_MODE)), true);
});

test('a backing file holding ext4 is refused, naming it and the key that allows it; nothing runs', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.host.putFile('/var/lib/docker-storage.btrfs', 'x');
  machine.signatures.set('/var/lib/docker-storage.btrfs', { TYPE: 'ext4', UUID: 'u' });
  await assert.rejects(planOf(await storageContext(machine, FILE_MODE)), (error: Error) => {
    assert.ok(error instanceof FormatRefusedError);
    assert.match(
      error.message,
      /refusing to format \/var\/lib\/docker-storage\.btrfs: it holds a ext4 filesystem; set STORAGE_FORCE_FORMAT=yes/,
    );
    return true;
  });
  assert.ok(!machine.host.commands().some((c) => /^(mkfs|wipefs|mount)/.test(c)));
});

test('a partition table counts as content too', async () => {
  const machine = new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1', { PTTYPE: 'gpt' });
  await assert.rejects(planOf(await storageContext(machine, DEVICE_MODE)), /it holds a gpt partition table/);
});

test('STORAGE_FORCE_FORMAT=yes wipes the old signature, then formats without --force', async () => {
  const machine = new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1', { TYPE: 'ext4' });
  const context = await storageContext(machine, `${DEVICE_MODE}STORAGE_FORCE_FORMAT=yes\n`);
  const [format] = await planOf(context);
  assert.match(format?.summary ?? '', /^ERASE a ext4 filesystem on \/dev\/nvme1n1/);
  await converge(context);
  const commands = machine.host.commands();
  assert.ok(
    commands.indexOf('wipefs --all -- /dev/nvme1n1') <
      commands.indexOf(`mkfs.btrfs --label ${STORE.label} -- /dev/nvme1n1`),
  );
  assert.deepEqual(await planOf(context), [], "the agent's own filesystem is never formatted again, force or not");
});

test('device mode by EBS volume id: the NVMe device with that serial, a mount unit by UUID, enabled', async () => {
  const machine = new FakeMachine()
    .installBtrfsProgs()
    .addDisk('/dev/nvme0n1', { TYPE: 'xfs' }, 'vol0aaaaaaaaaaaaaaaa')
    .addDisk('/dev/nvme1n1', undefined, 'vol0123456789abcdef0');
  const context = await storageContext(
    machine,
    'STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=vol-0123456789abcdef0\n',
    true,
  );
  assert.deepEqual(kinds(await converge(context)), ['format', 'write-mount-unit', 'switch']);
  assert.equal(machine.mounts.get(STORE.mountPoint), '/dev/nvme1n1');
  const unit = machine.host.text(STORE.mountUnit) ?? '';
  assert.match(unit, /^What=\/dev\/disk\/by-uuid\/11111111-2222-3333-4444-555555555555$/m);
  assert.match(unit, /^Before=docker\.service$/m);
  assert.match(unit, /^RequiredBy=docker\.service$/m);
  const commands = machine.host.commands();
  assert.ok(commands.includes(`systemctl enable -- ${STORE.mountUnitName}`));
  assert.ok(commands.includes('systemctl daemon-reload'), 'systemd is running: it rereads units');
  assert.deepEqual(await planOf(context), []);
});

test('an EBS volume that is not attached is an error naming the id and the serial looked for', async () => {
  const machine = new FakeMachine();
  const context = await storageContext(machine, 'STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=vol-0123456789abcdef0\n');
  await assert.rejects(
    planOf(context),
    /STORAGE_DEVICE=vol-0123456789abcdef0: no attached block device has the serial vol0123456789abcdef0/,
  );
});

test('Docker running under systemd is stopped around the switch and started again', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.activeUnits.add('docker.service').add('docker.socket');
  await converge(await storageContext(machine, FILE_MODE, true));
  const systemctl = machine.host.commands().filter((c) => /^systemctl (stop|start)/.test(c));
  assert.deepEqual(systemctl, [
    'systemctl stop -- docker.socket docker.service',
    'systemctl start -- docker.socket docker.service',
  ]);
});

test('Docker is started again when the switch fails, and not touched when it was not running', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.activeUnits.add('docker.service');
  machine.failures.set('mount', { exitCode: 32, stdout: '', stderr: 'mount: wrong fs type' });
  const context = await storageContext(machine, FILE_MODE, true);
  await assert.rejects(converge(context), /mount -t btrfs -o loop .* exited with 32: mount: wrong fs type/);
  assert.ok(machine.activeUnits.has('docker.service'), 'started again');
  assert.equal(machine.host.text(STORE.daemonJson), undefined, 'daemon.json is only changed once the store is mounted');

  const idle = new FakeMachine();
  idle.installBtrfsProgs();
  await converge(await storageContext(idle, FILE_MODE, true));
  assert.ok(!idle.host.commands().some((c) => /^systemctl (stop|start)/.test(c)));
});

test('a dockerd without systemd is not stopped behind its back: the switch is refused', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.host.putFile('/run/docker.pid', '4242\n');
  await assert.rejects(
    planOf(await storageContext(machine, FILE_MODE)),
    /dockerd runs outside systemd \(\/run\/docker\.pid\)/,
  );
});

test('/var/lib/docker mounted from something else is left alone, with the reason', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.mounts.set(STORE.mountPoint, '/dev/xvdf');
  await assert.rejects(
    planOf(await storageContext(machine, FILE_MODE)),
    /\/var\/lib\/docker is already a mount of \/dev\/xvdf \(btrfs\)/,
  );
});

test('existing data in /var/lib/docker is planned to be moved, verified and only then switched', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.host.putFile('/var/lib/docker/volumes/data/_data/db', 'precious');
  const actions = await planOf(await storageContext(machine, FILE_MODE));
  const change = actions.find((a) => a.kind === 'switch');
  assert.ok(change?.kind === 'switch' && change.migrate);
  assert.match(change.summary, /^move \/var\/lib\/docker onto the Btrfs store/);
  assert.match(renderSteps(change.steps).join('\n'), /verify every name, type, size, mode and owner/);
});

test('an old store left by an interrupted switch is removed once the new one is mounted', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  machine.host.putFile(`${STORE.retired}/image`, 'old');
  const context = await storageContext(machine, FILE_MODE);
  assert.deepEqual(kinds(await converge(context)), [
    'create-file',
    'format',
    'write-fstab',
    'switch',
    'remove-retired',
  ]);
  assert.equal(machine.host.text(`${STORE.retired}/image`), undefined);
  assert.deepEqual(await planOf(context), []);
});

test('usage above STORAGE_WARN_PERCENT is a warning of the concern', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  const context = await storageContext(machine, `${FILE_MODE}STORAGE_WARN_PERCENT=50\n`);
  await converge(context);
  assert.deepEqual(storage.warnings?.(await storage.gather(context), context), []);
  machine.usageText = machine.usageText.replace(/Used:\t\t\t +262144/, 'Used:\t\t\t 999292928');
  const [warning] = storage.warnings?.(await storage.gather(context), context) ?? [];
  assert.match(warning ?? '', /\/var\/lib\/docker is 50% full \(STORAGE_WARN_PERCENT=50\)/);
});

test(
  'a mount unit or fstab line for /var/lib/docker that the agent did not write is left alone, ' + 'with the reason',
  async () => {
    const device = new FakeMachine().installBtrfsProgs().addDisk('/dev/nvme1n1');
    device.host.putFile(STORE.mountUnit, '[Mount]\nWhat=/dev/xvdf\nWhere=/var/lib/docker\n');
    await assert.rejects(
      planOf(await storageContext(device, DEVICE_MODE)),
      /var-lib-docker\.mount was not written by the agent; remove it/,
    );

    const file = new FakeMachine().installBtrfsProgs();
    file.host.putFile(STORE.fstab, '/dev/xvdf /var/lib/docker xfs defaults 0 2\n');
    await assert.rejects(
      planOf(await storageContext(file, FILE_MODE)),
      /\/etc\/fstab already mounts \/dev\/xvdf on \/var\/lib\/docker/,
    );
  },
);

test('apply runs what was planned, not a plan of its own: what appeared since is refused', async () => {
  const machine = new FakeMachine();
  machine.installBtrfsProgs();
  const context = await storageContext(machine, FILE_MODE, true);
  const actions = await planOf(context);
  assert.deepEqual(kinds(actions), ['create-file', 'format', 'write-fstab', 'switch']);
  machine.host.putFile('/var/lib/docker-storage.btrfs', "someone else's");
  const appeared = /docker-storage\.btrfs appeared since the plan; not touching it, plan again/;
  await assert.rejects(storage.apply(actions[0] as StorageAction, context), appeared);
  assert.equal(machine.host.text('/var/lib/docker-storage.btrfs'), "someone else's");

  const fresh = new FakeMachine();
  fresh.installBtrfsProgs();
  fresh.activeUnits.add('docker.service');
  const planned = await storageContext(fresh, FILE_MODE, true);
  const steps = await planOf(planned);
  fresh.host.putFile('/var/lib/docker/containers/new', 'written after the plan');
  for (const action of steps.slice(0, -1)) await storage.apply(action, planned);
  const data = /\/var\/lib\/docker holds data that was not there when the store was planned; plan again/;
  await assert.rejects(storage.apply(steps.at(-1) as StorageAction, planned), data);
  assert.equal(fresh.mounts.get(STORE.mountPoint), undefined, 'nothing mounted over it');
  assert.ok(fresh.activeUnits.has('docker.service'), 'Docker started again');
  assert.ok(
    (await planOf(planned)).some((a) => a.kind === 'switch' && a.migrate),
    'planned again, as a move',
  );
});

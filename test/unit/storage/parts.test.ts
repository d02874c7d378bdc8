import assert from 'node:assert/strict';
import { test } from 'node:test';

import { daemonJsonWithBtrfs } from '../../../src/concerns/storage/daemon-json.ts';
import { volumeSerial } from '../../../src/block/device.ts';
import { isVolumeId } from '../../../src/core/config/volumes.ts';
import { currentFstabLine, fstabLine, withFstabLine } from '../../../src/concerns/storage/persist.ts';
import { describeSignature, parseBlkidExport } from '../../../src/block/probe.ts';
import { isOwnFilesystem } from '../../../src/concerns/storage/settings.ts';
import { STORE } from '../../../src/concerns/storage/settings.ts';
import { fullnessWarning, parseBtrfsUsage, usedPercent } from '../../../src/concerns/storage/usage.ts';
import { USAGE_TEXT } from './fake-machine.ts';

test('daemon.json: storage-driver is merged in, every other key kept', () => {
  const merged = daemonJsonWithBtrfs(
    '{"log-driver":"journald","log-opts":{"tag":"{{.Name}}"},"storage-driver":"overlay2"}',
  );
  assert.deepEqual(JSON.parse(merged as string), {
    'log-driver': 'journald',
    'log-opts': { tag: '{{.Name}}' },
    'storage-driver': 'btrfs',
  });
  assert.match(merged as string, /\n$/);
  assert.deepEqual(JSON.parse(daemonJsonWithBtrfs(null) as string), { 'storage-driver': 'btrfs' });
  assert.deepEqual(JSON.parse(daemonJsonWithBtrfs('  \n') as string), { 'storage-driver': 'btrfs' });
  assert.equal(daemonJsonWithBtrfs('{"storage-driver":"btrfs","debug":true}'), null, 'already right: nothing to write');
});

test('daemon.json: invalid JSON, a non-object or settings that defeat the store are errors', () => {
  assert.throws(
    () => daemonJsonWithBtrfs('{"debug": true,'),
    /\/etc\/docker\/daemon\.json is not valid JSON .*the agent will not overwrite it/,
  );
  assert.throws(() => daemonJsonWithBtrfs('["a"]'), /must hold a JSON object/);
  assert.throws(() => daemonJsonWithBtrfs('{"data-root":"/data/docker"}'), /sets data-root to "\/data\/docker"/);
  assert.throws(
    () => daemonJsonWithBtrfs('{"storage-opts":["overlay2.size=10G"]}'),
    /storage-opts \["overlay2\.size=10G"\] that the btrfs driver rejects/,
  );
  assert.equal(
    daemonJsonWithBtrfs(
      '{"data-root":"/var/lib/docker","storage-opts":["btrfs.min_space=10G"],"storage-driver":"btrfs"}',
    ),
    null,
  );
});

test('fstab: the store line is added or updated in place, other lines and comments kept', () => {
  const file = '/var/lib/docker-storage.btrfs';
  const base = '# static file system information\nUUID=abc / ext4 defaults 0 1\n';
  assert.equal(withFstabLine(base, file), `${base}${fstabLine(file)}\n`);
  assert.equal(withFstabLine('', file), `${fstabLine(file)}\n`);
  const old = `${base}${file}   /var/lib/docker  btrfs  loop  0 0\n# end\n`;
  assert.equal(withFstabLine(old, file), `${base}${fstabLine(file)}\n# end\n`);
  assert.equal(withFstabLine(withFstabLine(base, file), file), withFstabLine(base, file), 'idempotent');
  assert.equal(currentFstabLine(old), `${file}   /var/lib/docker  btrfs  loop  0 0`);
  assert.equal(
    currentFstabLine('#/dev/x /var/lib/docker ext4 defaults 0 0\n'),
    null,
    'a commented line is not an entry',
  );
});

test("fstab: another source mounted on /var/lib/docker is the operator's and is not replaced", () => {
  assert.throws(
    () => withFstabLine('/dev/xvdf /var/lib/docker xfs defaults 0 2\n', '/var/lib/docker-storage.btrfs'),
    /\/etc\/fstab already mounts \/dev\/xvdf on \/var\/lib\/docker/,
  );
});

test('blkid export output: filesystem, label, UUID and partition table', () => {
  const own = parseBlkidExport(
    `DEVNAME=f\nLABEL=${STORE.label}\nUUID=8e0d\nUUID_SUB=fc58\nBLOCK_SIZE=4096\nTYPE=btrfs\nUSAGE=filesystem\n`,
  );
  assert.deepEqual(own, { type: 'btrfs', label: STORE.label, uuid: '8e0d', partitionTable: null });
  assert.equal(isOwnFilesystem(own), true);
  assert.equal(isOwnFilesystem({ ...own, label: 'data' }), false, 'a Btrfs the agent did not make is not its own');
  assert.equal(isOwnFilesystem(null), false);
  const disk = parseBlkidExport('DEVNAME=/dev/nvme1n1\nPTUUID=1234\nPTTYPE=gpt\n');
  assert.equal(describeSignature(disk), 'a gpt partition table');
  assert.equal(
    describeSignature({ ...disk, type: 'xfs', label: 'data' }),
    'a xfs filesystem labelled "data" and a gpt partition table',
  );
});

test('EBS volume ids map to the NVMe serial without the dash', () => {
  assert.equal(isVolumeId('vol-0123456789abcdef0'), true);
  assert.equal(isVolumeId('/dev/nvme1n1'), false);
  assert.equal(volumeSerial('vol-0123456789abcdef0'), 'vol0123456789abcdef0');
});

test('btrfs filesystem usage -b: the overall figures and ratios', () => {
  const usage = parseBtrfsUsage(USAGE_TEXT);
  assert.deepEqual(usage, {
    deviceSize: 1073741824,
    used: 262144,
    freeEstimated: 999292928,
    dataRatio: 1,
    metadataRatio: 2,
  });
  assert.equal(usedPercent(usage), 0);
  assert.equal(usedPercent({ ...usage, used: 300, freeEstimated: 100 }), 75);
  assert.throws(() => parseBtrfsUsage('Overall:\n    Device size:\t1\n'), /printed no "Used"/);
});

test('the fullness warning starts at STORAGE_WARN_PERCENT', () => {
  assert.equal(fullnessWarning(84.9, 85), null);
  assert.match(fullnessWarning(85, 85) ?? '', /is 85% full \(STORAGE_WARN_PERCENT=85\)/);
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { growStore } from '../../../src/concerns/storage/grow.ts';
import { STORE } from '../../../src/concerns/storage/settings.ts';
import { storageStatus } from '../../../src/concerns/storage/status.ts';
import { parseBtrfsUsage } from '../../../src/concerns/storage/usage.ts';
import { liveScratch } from './live-scratch.ts';

const GiB = 2 ** 30;

function findmnt(target: string): { source: string; fstype: string } | null {
  try {
    const out = execFileSync('findmnt', ['--json', '--output', 'SOURCE,FSTYPE', '--mountpoint', target], {
      encoding: 'utf8',
    });
    return (JSON.parse(out) as { filesystems: { source: string; fstype: string }[] }).filesystems[0] ?? null;
  } catch {
    return null;
  }
}

test(
  'file mode: a thin sparse file, Btrfs with the label, loop-mounted, fstab and daemon.json; then ' + 'nothing to do',
  async (t) => {
    const system = await liveScratch(t, 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=1G\n');
    const actions = await system.converge();
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['create-file', 'format', 'write-fstab', 'switch'],
    );

    const file = statSync(system.path('/var/lib/docker-storage.btrfs'));
    assert.equal(file.size, GiB);
    assert.ok(file.blocks * 512 < GiB / 10, `sparse: ${file.blocks * 512} bytes allocated of ${file.size}`);
    assert.equal(file.mode & 0o777, 0o600);
    const label = execFileSync(
      'blkid',
      ['-p', '-s', 'LABEL', '-o', 'value', '--', system.path('/var/lib/docker-storage.btrfs')],
      { encoding: 'utf8' },
    );
    assert.equal(label.trim(), STORE.label);

    const mount = findmnt(system.path(STORE.mountPoint));
    assert.equal(mount?.fstype, 'btrfs');
    assert.match(mount?.source ?? '', /^\/dev\/loop\d+$/);
    assert.match(
      readFileSync(system.path(STORE.fstab), 'utf8'),
      /^\/var\/lib\/docker-storage\.btrfs \/var\/lib\/docker btrfs loop,/m,
    );
    assert.equal(JSON.parse(readFileSync(system.path(STORE.daemonJson), 'utf8'))['storage-driver'], 'btrfs');

    assert.deepEqual(await system.plan(), [], 'after apply, plan(gather()) is empty');
  },
);

test('file mode: grow works while mounted and status matches btrfs filesystem usage', async (t) => {
  const system = await liveScratch(t, 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=1G\n');
  await system.converge();
  writeFileSync(system.path('/var/lib/docker/kept'), 'still here after the grow');

  const grown = await growStore(system.context, system.settings, 2 * GiB);
  assert.deepEqual(grown, { before: GiB, after: 2 * GiB });
  assert.equal(statSync(system.path('/var/lib/docker-storage.btrfs')).size, 2 * GiB);
  assert.equal(readFileSync(system.path('/var/lib/docker/kept'), 'utf8'), 'still here after the grow');
  await assert.rejects(growStore(system.context, system.settings, GiB), /shrinking is refused/);

  const status = await storageStatus(system.context, system.settings);
  const measured = parseBtrfsUsage(
    execFileSync('btrfs', ['filesystem', 'usage', '-b', system.path(STORE.mountPoint)], { encoding: 'utf8' }),
  );
  assert.equal(status.mounted, true);
  assert.equal(status.backingSize, 2 * GiB);
  assert.equal(status.usage?.deviceSize, measured.deviceSize);
  assert.equal(status.usage?.used, measured.used);
  assert.equal(status.usage?.freeEstimated, measured.freeEstimated);
  assert.deepEqual(
    [status.usage?.dataRatio, status.usage?.metadataRatio],
    [measured.dataRatio, measured.metadataRatio],
  );
  assert.deepEqual(await system.plan(), [], 'a grown store needs nothing');
});

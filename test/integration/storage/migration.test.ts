import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { test } from 'node:test';

import { STORE } from '../../../src/concerns/storage/settings.ts';
import { mountsBelow } from '../../support/loop-device.ts';
import { liveScratch, type LiveScratch } from './live-scratch.ts';

/** An old store with what Docker keeps there: nested files, a symlink, modes and owners. */
function seedOldStore(system: LiveScratch): void {
  const store = system.path(STORE.mountPoint);
  mkdirSync(`${store}/volumes/db/_data`, { recursive: true, mode: 0o710 });
  writeFileSync(`${store}/volumes/db/_data/rows`, 'row 1\nrow 2\n', { mode: 0o640 });
  chownSync(`${store}/volumes/db/_data/rows`, 65534, 65534);
  writeFileSync(`${store}/engine-id`, 'abc123');
  symlinkSync('volumes/db', `${store}/link`);
}

function assertOldStoreIntact(system: LiveScratch): void {
  const store = system.path(STORE.mountPoint);
  assert.equal(readFileSync(`${store}/volumes/db/_data/rows`, 'utf8'), 'row 1\nrow 2\n');
  assert.equal(readFileSync(`${store}/engine-id`, 'utf8'), 'abc123');
}

test('migration: the old /var/lib/docker is on the new store after apply, modes, owners and links kept', async (t) => {
  const system = await liveScratch(t, 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=1G\n');
  seedOldStore(system);
  const actions = await system.converge();
  const change = actions.find((a) => a.kind === 'switch');
  assert.ok(change?.kind === 'switch' && change.migrate, 'planned as a move');

  const store = system.path(STORE.mountPoint);
  assert.deepEqual(mountsBelow(store), [store], 'the new store is mounted there');
  assertOldStoreIntact(system);
  const rows = statSync(`${store}/volumes/db/_data/rows`);
  assert.deepEqual([rows.mode & 0o777, rows.uid, rows.gid], [0o640, 65534, 65534]);
  assert.equal(readlinkSync(`${store}/link`), 'volumes/db');
  assert.equal(statSync(`${store}/volumes/db/_data`).mode & 0o777, 0o710);
  assert.equal(existsSync(system.path(STORE.staging)), false, 'staging mount point removed');
  assert.equal(existsSync(system.path(STORE.retired)), false, 'old copy removed once the new store is mounted');
  assert.deepEqual(await system.plan(), []);
});

test('migration: a failure mid-way (the new store is full) leaves the old store intact and in place', async (t) => {
  const system = await liveScratch(t, 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=256M\n');
  seedOldStore(system);
  writeIncompressible(`${system.path(STORE.mountPoint)}/overlay2-layer.bin`, 400);

  await assert.rejects(system.converge(), /cp -a .* exited with 1: .*No space left on device/s);

  assertOldStoreIntact(system);
  assert.equal(statSync(`${system.path(STORE.mountPoint)}/overlay2-layer.bin`).size, 400 * 2 ** 20);
  assert.ok(lstatSync(system.path(STORE.mountPoint)).isDirectory());
  assert.deepEqual(mountsBelow(system.root), [], 'nothing left mounted: neither the store nor the staging mount');
  assert.equal(existsSync(system.path(STORE.retired)), false);
  assert.equal(
    existsSync(system.path(STORE.daemonJson)),
    false,
    "Docker's config untouched: the " + 'old store stays usable',
  );

  const retry = await system.plan();
  assert.ok(
    retry.some((a) => a.kind === 'switch' && a.migrate),
    'the move is planned again, into the emptied filesystem',
  );
  mkdirSync(system.path('/mnt'));
  execFileSync('mount', [
    '-t',
    'btrfs',
    '-o',
    'loop,ro',
    '--',
    system.path('/var/lib/docker-storage.btrfs'),
    system.path('/mnt'),
  ]);
  assert.deepEqual(readdirSync(system.path('/mnt')), [], 'the partial copy was removed');
});

/** A file of `mib` MiB that compresses and deduplicates to nothing less. */
function writeIncompressible(path: string, mib: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, randomBytes(2 ** 20));
  } finally {
    closeSync(fd);
  }
}

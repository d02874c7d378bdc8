import assert from 'node:assert/strict';
import { test } from 'node:test';

import { acquireLock, LOCK_FILE } from '../../../src/daemon/lock.ts';
import { FakeHost } from '../../support/fake-host.ts';

const stat = (pid: number, started: number) =>
  `${pid} (node (agent)) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 ${started} 1000 100\n`;

test('the first daemon takes the lock, recording pid and start time, and releases it', async () => {
  const host = new FakeHost({ '/proc/100/stat': stat(100, 4242) });
  const lock = await acquireLock(host, 100);
  assert.equal(host.text(LOCK_FILE), '100 4242\n');
  await lock.release();
  assert.equal(host.text(LOCK_FILE), undefined);
});

test('a second daemon is refused while the first runs', async () => {
  const host = new FakeHost({
    [LOCK_FILE]: '100 4242\n',
    '/proc/100/stat': stat(100, 4242),
    '/proc/200/stat': stat(200, 5000),
  });
  await assert.rejects(acquireLock(host, 200), { name: 'AlreadyRunning', message: /already running as pid 100/ });
  assert.equal(host.text(LOCK_FILE), '100 4242\n');
});

test('a lock left by a dead agent, or whose pid was reused by another process, is taken over', async () => {
  const dead = new FakeHost({ [LOCK_FILE]: '100 4242\n', '/proc/200/stat': stat(200, 5000) });
  await acquireLock(dead, 200);
  assert.equal(dead.text(LOCK_FILE), '200 5000\n');
  const reused = new FakeHost({
    [LOCK_FILE]: '100 4242\n',
    '/proc/100/stat': stat(100, 9999),
    '/proc/200/stat': stat(200, 5000),
  });
  await acquireLock(reused, 200);
  assert.equal(reused.text(LOCK_FILE), '200 5000\n');
});

test("release never removes another daemon's lock", async () => {
  const host = new FakeHost({ '/proc/100/stat': stat(100, 4242) });
  const lock = await acquireLock(host, 100);
  host.putFile(LOCK_FILE, '300 7\n');
  await lock.release();
  assert.equal(host.text(LOCK_FILE), '300 7\n');
});

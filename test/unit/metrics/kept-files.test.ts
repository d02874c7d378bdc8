import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { FileReader } from '../../../src/host/host.ts';
import { KeptFiles } from '../../../src/metrics/kept-files.ts';
import { Sampler } from '../../../src/metrics/sampler.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { fakeMachine, SETTINGS } from './fake-machine.ts';

test('a file is opened once and read afresh each time; close() closes it', async () => {
  const host = new FakeHost({ '/proc/loadavg': '0.10 0.20 0.30 1/100 999\n' });
  const files = new KeptFiles(host);
  assert.equal(await files.read('/proc/loadavg'), '0.10 0.20 0.30 1/100 999\n');
  host.putFile('/proc/loadavg', '0.50 0.20 0.30 1/100 999\n');
  assert.equal(await files.read('/proc/loadavg'), '0.50 0.20 0.30 1/100 999\n');
  assert.deepEqual(host.openReaders, ['/proc/loadavg']);
  await files.close();
  assert.deepEqual(host.openReaders, []);
});

test('a read that fails is tried again on a freshly opened file, and the bad one is closed', async () => {
  const host = new FakeHost({ '/proc/meminfo': 'MemTotal: 1 kB\n' });
  const openReader = host.openReader.bind(host);
  let opens = 0;
  host.openReader = async (path): Promise<FileReader> => {
    const reader = await openReader(path);
    opens++;
    let reads = 0;
    return opens === 1
      ? { read: () => (reads++ === 0 ? reader.read() : Promise.reject(new Error('EIO'))), close: reader.close }
      : reader;
  };
  const files = new KeptFiles(host);
  assert.equal(await files.read('/proc/meminfo'), 'MemTotal: 1 kB\n');
  assert.equal(await files.read('/proc/meminfo'), 'MemTotal: 1 kB\n', 'the second read failed and was tried again');
  assert.equal(opens, 2);
  assert.deepEqual(host.openReaders, ['/proc/meminfo'], 'the failed reader was closed');
  assert.equal(await files.read('/proc/meminfo'), 'MemTotal: 1 kB\n');
  assert.equal(opens, 2, 'the good reader is kept');
});

test('a file that cannot be opened fails the read, and a later read opens it again', async () => {
  const host = new FakeHost();
  const files = new KeptFiles(host);
  await assert.rejects(files.read('/proc/net/dev'), /ENOENT/);
  host.putFile('/proc/net/dev', 'h1\nh2\n');
  assert.equal(await files.read('/proc/net/dev'), 'h1\nh2\n');
  assert.deepEqual(host.openReaders, ['/proc/net/dev']);
});

test('the sampler keeps its five /proc files open across samples and closes them on close()', async () => {
  const host = fakeMachine();
  const sampler = new Sampler(host, SETTINGS);
  for (let i = 0; i < 3; i++) await sampler.sample();
  assert.deepEqual([...host.openReaders].sort(), [
    '/proc/loadavg',
    '/proc/meminfo',
    '/proc/net/dev',
    '/proc/self/mounts',
    '/proc/stat',
  ]);
  await sampler.close();
  assert.deepEqual(host.openReaders, []);
});

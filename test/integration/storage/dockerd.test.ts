import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';

import { STORE } from '../../../src/concerns/storage/settings.ts';
import { startDockerd } from '../../support/dockerd.ts';
import { mountableScratch } from '../../support/loop-device.ts';
import { liveScratch } from './live-scratch.ts';

/** A root filesystem holding only dash and the libraries it loads: enough for a container, no registry needed. */
function tinyRootfs(dir: string): Buffer {
  const files = ['/bin/dash', ...libraries('/bin/dash')];
  for (const file of files) {
    mkdirSync(join(dir, dirname(file)), { recursive: true });
    copyFileSync(file, join(dir, file));
  }
  return execFileSync('tar', ['--create', '--directory', dir, '.'], { maxBuffer: 64 * 2 ** 20 });
}

function libraries(binary: string): string[] {
  const out = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((match) => match[1] as string);
}

test(
  'a real dockerd on the managed store reports the btrfs driver and runs a container from an ' + 'imported image',
  async (t) => {
    const system = await liveScratch(t, 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=2G\n');
    await system.converge();
    const image = tinyRootfs(mountableScratch(t, 'eha-rootfs-'));

    const dockerd = await startDockerd(t, {
      dataRoot: system.path(STORE.mountPoint),
      configFile: system.path(STORE.daemonJson),
    });
    assert.equal(dockerd.docker(['info', '--format', '{{.Driver}}']).trim(), 'btrfs', dockerd.log());
    assert.match(dockerd.docker(['info']), /Storage Driver: btrfs/);
    dockerd.docker(['import', '-', 'eha-tiny:1'], image);
    const output = dockerd.docker([
      'run',
      '--rm',
      '--network',
      'none',
      'eha-tiny:1',
      '/bin/dash',
      '-c',
      'echo hello from btrfs',
    ]);
    assert.equal(output, 'hello from btrfs\n');
    await dockerd.stop();
  },
);

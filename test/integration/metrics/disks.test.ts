/**
 * Disk figures on real filesystems: a Btrfs store and an ext4 data volume on
 * loop devices, mounted in a scratch directory. The store's allocation is
 * compared with what `btrfs filesystem usage -b` prints for it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { Sampler } from '../../../src/metrics/sampler.ts';
import { attachLoop, mountableScratch } from '../../support/loop-device.ts';

const MIB = 2 ** 20;

function loopWith(t: Parameters<typeof attachLoop>[0], dir: string, name: string, mkfs: readonly string[]): string {
  const file = join(dir, `${name}.img`);
  execFileSync('truncate', ['--size', String(300 * MIB), '--', file]);
  const device = attachLoop(t, file);
  execFileSync(mkfs[0] as string, [...mkfs.slice(1), '--', device], { stdio: 'ignore' });
  const mount = join(dir, name);
  mkdirSync(mount);
  execFileSync('mount', ['--', device, mount]);
  return device;
}

/** The figures `btrfs filesystem usage -b` prints: overall lines and the Size/Used of each chunk type. */
function btrfsUsage(mount: string): Record<string, number> {
  const text = execFileSync('btrfs', ['filesystem', 'usage', '-b', '--', mount], { encoding: 'utf8' });
  const overall = (label: string): number => Number(new RegExp(`^\\s*${label}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  const chunk = (type: string): { size: number; used: number } => {
    const match = new RegExp(`^${type},\\w+: Size:(\\d+), Used:(\\d+)`, 'm').exec(text);
    return { size: Number(match?.[1]), used: Number(match?.[2]) };
  };
  return {
    deviceBytes: overall('Device size'),
    unallocatedBytes: overall('Device unallocated'),
    dataTotal: chunk('Data').size,
    dataUsed: chunk('Data').used,
    metadataTotal: chunk('Metadata').size,
    metadataUsed: chunk('Metadata').used,
  };
}

test(
  'a Btrfs store reports what btrfs filesystem usage prints, and a data volume its usage, without ' + 'a process',
  async (t) => {
    const dir = mountableScratch(t);
    const storeDevice = loopWith(t, dir, 'store', ['mkfs.btrfs', '--quiet']);
    const volumeDevice = loopWith(t, dir, 'data', ['mkfs.ext4', '-q']);
    const store = join(dir, 'store');
    writeFileSync(join(store, 'layer'), Buffer.alloc(40 * MIB, 7));
    writeFileSync(join(dir, 'data', 'file'), Buffer.alloc(10 * MIB, 7));
    execFileSync('sync');

    let execs = 0;
    const sampler = new Sampler(new RealHost('/', () => execs++), {
      dockerSocket: join(dir, 'none.sock'),
      introspectionUrl: 'http://127.0.0.1:9',
      storeMount: store,
      storeOnBtrfs: true,
      volumes: [
        { device: 'vol-0123456789abcdef0', mountPoint: join(dir, 'data') },
        { device: '/dev/nvme9n1', mountPoint: join(dir, 'absent') },
      ],
    });
    t.after(() => sampler.close());
    const sample = await sampler.sample();
    assert.equal(execs, 0, 'no process is started');

    const disk = sample.disks.find((d) => d.mount === store);
    assert.equal(disk?.device, storeDevice);
    assert.deepEqual(disk?.btrfs, btrfsUsage(store));
    assert.ok((disk?.btrfs?.dataUsed ?? 0) >= 40 * MIB, 'the data written is counted');

    const [data, absent] = sample.volumes;
    const df = execFileSync('df', ['--block-size=1', '--output=size,used,avail', '--', join(dir, 'data')], {
      encoding: 'utf8',
    })
      .trim()
      .split('\n')[1]
      ?.trim()
      .split(/\s+/)
      .map(Number);
    assert.deepEqual(data, {
      mountPoint: join(dir, 'data'),
      volume: 'vol-0123456789abcdef0',
      mounted: true,
      device: volumeDevice,
      totalBytes: df?.[0],
      usedBytes: df?.[1],
      freeBytes: df?.[2],
    });
    assert.equal(absent?.mounted, false);
  },
);

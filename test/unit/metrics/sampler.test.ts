import assert from 'node:assert/strict';
import { test } from 'node:test';

import { validate } from '../../../src/control/json-schema.ts';
import { sampleSchema } from '../../../src/control/schemas.ts';
import { renderPrometheus } from '../../../src/metrics/prometheus.ts';
import { Sampler } from '../../../src/metrics/sampler.ts';
import { CONTAINER_ID, fakeMachine, fsStats, SETTINGS } from './fake-machine.ts';

test(
  'a sample has the OpsWorks figures, real disks with Btrfs allocation, network, Docker and ECS, ' +
    'and fits the schema',
  async () => {
    const host = fakeMachine({ docker: true, ecs: true });
    const sampler = new Sampler(host, SETTINGS);
    const first = await sampler.sample();
    assert.deepEqual(validate(sampleSchema, first), []);
    assert.equal(host.execCalls.length, 0, 'no process is started');
    assert.deepEqual(first.load, { load1: 0.1, load5: 0.2, load15: 0.3 });
    assert.equal(first.memory.used, 300 * 1024);
    assert.equal(first.procs, 2);
    assert.deepEqual(
      first.disks.map((d) => d.mount),
      ['/', '/var/lib/docker', '/data', '/mnt/share'],
      'bind mounts, virtual and image filesystems left out',
    );
    assert.deepEqual(first.disks[1]?.btrfs, {
      dataTotal: 800,
      dataUsed: 500,
      metadataTotal: 200,
      metadataUsed: 50,
      deviceBytes: 4096 * 512,
      unallocatedBytes: 4096 * 512 - 800 - 400 - 16,
    });
    assert.deepEqual(first.disks[0], {
      mount: '/',
      device: '/dev/nvme0n1p1',
      fsType: 'ext4',
      totalBytes: 4096_000,
      usedBytes: 600 * 4096,
      freeBytes: 300 * 4096,
      inodesTotal: 1000,
      inodesFree: 900,
    });
    assert.deepEqual(
      first.network.map((n) => n.name),
      ['eth0'],
    );
    assert.equal(first.docker?.running, 1);
    assert.equal(first.docker?.containers[0]?.memoryBytes, 40_000, 'inactive page cache is not counted');
    assert.equal(first.docker?.containers[0]?.cpuPercent, null, 'no earlier reading of the container yet');
    assert.deepEqual(
      { ...first.ecs, containerInstanceArn: null },
      { agentAnswering: true, cluster: 'prod', containerInstanceArn: null, runningTasks: 1 },
    );
    assert.deepEqual(first.errors, []);
    assert.ok(
      host.httpCalls.some((r) => r.url.includes('one-shot=true')),
      'one stats cycle per container',
    );

    host.cpuLine = 'cpu  200 0 150 850 0 0 0 0 0 0';
    host.containerUsageNs += 30e9;
    host.clock = new Date(host.clock.getTime() + 60_000);
    const second = await sampler.sample();
    assert.deepEqual(second.cpu, { user: 50, nice: 0, system: 25, idle: 25, waitio: 0, steal: 0, irq: 0 });
    // 30 s of CPU in 60 s, or in 60.25 s when the first sample's pause for CPU figures fell between the two container
    // readings
    assert.ok([50, 49.79].includes(second.docker?.containers[0]?.cpuPercent ?? NaN), '30 s of CPU in about 60 s');
    assert.notEqual(second.id, first.id);
  },
);

test(
  'without Docker or the ECS agent the sample says so, and a failing disk is an error entry, not ' + 'a failed sample',
  async () => {
    const host = fakeMachine();
    host.filesystems.delete('/mnt/share');
    const sample = await new Sampler(host, SETTINGS).sample();
    assert.equal(sample.docker, null);
    assert.equal(sample.ecs.agentAnswering, false);
    assert.deepEqual(
      sample.disks.map((d) => d.mount),
      ['/', '/var/lib/docker', '/data'],
    );
    assert.equal(sample.errors.length, 1);
    assert.match(sample.errors[0]?.message ?? '', /\/mnt\/share: statfs failed/);
    assert.deepEqual(validate(sampleSchema, sample), []);
  },
);

test(
  'configured volumes are reported by mount point with their volume id and device, mounted or ' +
    'not, from the disks already measured',
  async () => {
    const host = fakeMachine();
    const sampler = new Sampler(host, SETTINGS);
    const statfsCalls: string[] = [];
    const statfs = host.statfs.bind(host);
    host.statfs = (path) => {
      statfsCalls.push(path);
      return statfs(path);
    };
    const sample = await sampler.sample();
    assert.deepEqual(sample.volumes, [
      {
        mountPoint: '/data',
        volume: 'vol-0123456789abcdef0',
        mounted: true,
        device: '/dev/nvme1n1',
        totalBytes: 100 * 4096,
        usedBytes: 75 * 4096,
        freeBytes: 25 * 4096,
      },
      {
        mountPoint: '/logs',
        volume: '/dev/nvme2n1',
        mounted: false,
        device: null,
        totalBytes: null,
        usedBytes: null,
        freeBytes: null,
      },
    ]);
    assert.equal(statfsCalls.filter((path) => path === '/data').length, 1, 'one statfs for the disk and the volume');
    assert.equal(host.execCalls.length, 0, 'no findmnt or df');

    host.filesystems.delete('/data');
    const failed = await sampler.sample();
    assert.deepEqual(failed.volumes[0], {
      mountPoint: '/data',
      volume: 'vol-0123456789abcdef0',
      mounted: true,
      device: '/dev/nvme1n1',
      totalBytes: null,
      usedBytes: null,
      freeBytes: null,
    });
    assert.match(failed.errors.map((e) => e.message).join(), /\/data: statfs failed/);
    assert.deepEqual(validate(sampleSchema, failed), []);
  },
);

test('a volume mounted or unmounted between samples is seen at the next sample', async () => {
  const host = fakeMachine();
  const sampler = new Sampler(host, SETTINGS);
  const mounts = host.text('/proc/self/mounts') as string;
  assert.equal((await sampler.sample()).volumes[1]?.mounted, false);
  host.putFile('/proc/self/mounts', `${mounts}/dev/nvme2n1 /logs ext4 rw 0 0\n`);
  host.filesystems.set('/logs', fsStats(50, 10));
  const mounted = await sampler.sample();
  assert.deepEqual([mounted.volumes[1]?.mounted, mounted.volumes[1]?.freeBytes], [true, 10 * 4096]);
  assert.ok(mounted.disks.some((disk) => disk.mount === '/logs'));
  host.putFile('/proc/self/mounts', mounts);
  const unmounted = await sampler.sample();
  assert.equal(unmounted.volumes[1]?.mounted, false);
  assert.ok(!unmounted.disks.some((disk) => disk.mount === '/logs'));
});

test('a volume on the same device as another mount is still reported at its mount point', async () => {
  const host = fakeMachine();
  host.putFile('/proc/self/mounts', '/dev/nvme0n1p1 / ext4 rw 0 0\n/dev/nvme0n1p1 /data ext4 rw 0 0\n');
  host.filesystems.set('/data', fsStats(1000, 400, 300));
  const sample = await new Sampler(host, {
    ...SETTINGS,
    volumes: [{ device: '/dev/nvme0n1p1', mountPoint: '/data' }],
  }).sample();
  assert.deepEqual(
    sample.disks.map((d) => d.mount),
    ['/', '/data'],
  );
  assert.equal(sample.volumes[0]?.usedBytes, 600 * 4096);
});

test('Btrfs allocation is read for the Docker store only when STORAGE_MODE is a Btrfs mode', async () => {
  const host = fakeMachine();
  const withStore = await new Sampler(host, SETTINGS).sample();
  assert.ok(withStore.disks.find((d) => d.mount === '/var/lib/docker')?.btrfs);
  const listings: string[] = [];
  const readdir = host.readdir.bind(host);
  host.readdir = (path) => {
    listings.push(path);
    return readdir(path);
  };
  const without = await new Sampler(host, { ...SETTINGS, storeOnBtrfs: false }).sample();
  assert.equal(without.disks.find((d) => d.mount === '/var/lib/docker')?.btrfs, undefined);
  assert.deepEqual(
    listings.filter((path) => path.startsWith('/sys/fs/btrfs')),
    [],
    '/sys/fs/btrfs is not even listed',
  );
});

test(
  'a store on a device-mapper device is found through dm/name, and an unknown device is not ' +
    'looked for again every sample',
  async () => {
    const host = fakeMachine();
    host.putFile('/proc/self/mounts', '/dev/mapper/vg-docker /var/lib/docker btrfs rw 0 0\n');
    host.putFile('/sys/fs/btrfs/0f1e/devices/dm-3/size', '4096\n');
    host.putFile('/sys/fs/btrfs/0f1e/devices/dm-3/dm/name', 'vg-docker\n');
    await host.rm('/sys/fs/btrfs/0f1e/devices/loop0', { recursive: true });
    const sampler = new Sampler(host, SETTINGS);
    assert.equal((await sampler.sample()).disks[0]?.btrfs?.deviceBytes, 4096 * 512);

    host.putFile('/proc/self/mounts', '/dev/sdz /var/lib/docker btrfs rw 0 0\n');
    const listings: string[] = [];
    const readdir = host.readdir.bind(host);
    host.readdir = (path) => {
      if (path === '/sys/fs/btrfs') listings.push(path);
      return readdir(path);
    };
    for (let i = 0; i < 3; i++) assert.equal((await sampler.sample()).disks[0]?.btrfs, undefined);
    assert.equal(listings.length, 1, '/sys/fs/btrfs listed once for the unknown device');
  },
);

test(
  'a statfs that hangs times out, and the mount is skipped while that call is outstanding',
  { timeout: 10_000 },
  async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const host = fakeMachine();
    let release: () => void = () => {};
    const hung = new Promise<never>((_, reject) => (release = () => reject(new Error('server back'))));
    const statfs = host.statfs.bind(host);
    host.statfs = (path) => (path === '/mnt/share' ? hung : statfs(path));
    const sampler = new Sampler(host, SETTINGS);
    const pending = sampler.sample();
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 5; i++) {
      t.mock.timers.tick(1000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    const first = await pending;
    assert.match(first.errors.map((e) => e.message).join(), /\/mnt\/share: statfs timed out/);
    const second = await sampler.sample();
    assert.match(second.errors.map((e) => e.message).join(), /\/mnt\/share: statfs still has not returned/);
    release();
    await new Promise((resolve) => setImmediate(resolve));
  },
);

test('Prometheus text has typed families with labels', async () => {
  const sample = await new Sampler(fakeMachine({ docker: true, ecs: true }), SETTINGS).sample();
  const text = renderPrometheus(sample);
  assert.match(text, /^# TYPE ecs_host_cpu_percent gauge$/m);
  assert.match(text, /^ecs_host_load\{period="1m"\} 0\.1$/m);
  assert.match(
    text,
    /^ecs_host_filesystem_avail_bytes\{mountpoint="\/",device="\/dev\/nvme0n1p1",fstype="ext4"\} 1228800$/m,
  );
  const store = 'mountpoint="/var/lib/docker",device="/dev/loop0",fstype="btrfs"';
  assert.ok(text.split('\n').includes(`ecs_host_btrfs_used_bytes{${store},type="metadata"} 50`), text);
  assert.ok(text.split('\n').includes(`ecs_host_btrfs_unallocated_bytes{${store}} 2095936`), text);
  assert.match(text, /^ecs_host_volume_used_bytes\{mountpoint="\/data",volume="vol-0123456789abcdef0"\} 307200$/m);
  assert.match(text, /^ecs_host_volume_mounted\{mountpoint="\/logs",volume="\/dev\/nvme2n1"\} 0$/m);
  assert.doesNotMatch(text, /^ecs_host_volume_used_bytes\{mountpoint="\/logs"/m, 'no figure for a volume not mounted');
  assert.match(
    text,
    new RegExp(
      `^ecs_host_container_memory_bytes\\{name="ecs-web-1",id="${CONTAINER_ID.slice(0, 12)}",image="nginx:1"\\} 40000$`,
      'm',
    ),
  );
  assert.match(text, /^# TYPE ecs_host_network_receive_bytes_total counter$/m);
  assert.match(text, /^ecs_host_ecs_running_tasks 1$/m);
  assert.ok(text.endsWith('\n'));
});

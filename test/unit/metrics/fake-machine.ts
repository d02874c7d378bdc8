import type { FsStats, HttpRequest } from '../../../src/host/host.ts';
import type { SamplerSettings } from '../../../src/metrics/sampler.ts';
import { FakeHost, jsonResponse } from '../../support/fake-host.ts';

/** A FakeHost with the /proc and /sys files, filesystems and loopback APIs a sample reads. */
export const SETTINGS: SamplerSettings = {
  dockerSocket: '/var/run/docker.sock',
  introspectionUrl: 'http://127.0.0.1:51678',
  storeMount: '/var/lib/docker',
  storeOnBtrfs: true,
  volumes: [
    { device: 'vol-0123456789abcdef0', mountPoint: '/data' },
    { device: '/dev/nvme2n1', mountPoint: '/logs' },
  ],
};

export const CONTAINER_ID = 'a'.repeat(64);
const TASK_ARN = 'arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef';
const INSTANCE_ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';

export function fsStats(blocks: number, free: number, available = free): FsStats {
  return {
    type: 0xef53,
    blockSize: 4096,
    blocks,
    blocksFree: free,
    blocksAvailable: available,
    files: 1000,
    filesFree: 900,
  };
}

export interface FakeMachineOptions {
  readonly docker?: boolean;
  readonly ecs?: boolean;
}

export function fakeMachine(
  options: FakeMachineOptions = {},
): FakeHost & { cpuLine: string; containerUsageNs: number } {
  const host = Object.assign(new FakeHost(), { containerUsageNs: 2e9 }) as ReturnType<typeof fakeMachine>;
  // Setting cpuLine rewrites /proc/stat in place, as the kernel does: a reader kept open sees it.
  Object.defineProperty(host, 'cpuLine', {
    get: () => host.text('/proc/stat')?.split('\n')[0],
    set: (line: string) => host.putFile('/proc/stat', `${line}\nintr 0\n`),
  });
  host.cpuLine = 'cpu  100 0 100 800 0 0 0 0 0 0';
  host.putFile(
    '/proc/meminfo',
    'MemTotal: 1000 kB\nMemFree: 400 kB\nMemAvailable: 600 kB\nBuffers: ' +
      '100 kB\nCached: 200 kB\nSReclaimable: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n',
  );
  host.putFile('/proc/loadavg', '0.10 0.20 0.30 1/100 999\n');
  host.putFile('/proc/net/dev', 'h1\nh2\n  eth0: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n');
  host.putFile('/proc/1/stat', '');
  host.putFile('/proc/22/stat', '');
  host.putFile(
    '/proc/self/mounts',
    [
      '/dev/nvme0n1p1 / ext4 rw 0 0',
      'proc /proc proc rw 0 0',
      'tmpfs /run tmpfs rw 0 0',
      '/dev/nvme0n1p1 /var/lib/kubelet ext4 rw 0 0',
      '/dev/loop0 /var/lib/docker btrfs rw 0 0',
      'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
      '/dev/loop1 /snap/core/1 squashfs ro 0 0',
      '/dev/nvme1n1 /data xfs rw 0 0',
      'fileserver:/export /mnt/share nfs4 rw 0 0',
      '',
    ].join('\n'),
  );
  host.filesystems.set('/', fsStats(1000, 400, 300));
  host.filesystems.set('/var/lib/docker', fsStats(2000, 1500));
  host.filesystems.set('/mnt/share', fsStats(10, 5));
  host.filesystems.set('/data', fsStats(100, 25));
  host.putFile('/sys/fs/btrfs/features/raid1c34', '0\n');
  // Metadata DUP: its chunks take twice their size on the device.
  for (const [kind, total, used, onDisk] of [
    ['data', 800, 500, 800],
    ['metadata', 200, 50, 400],
    ['system', 8, 1, 16],
  ] as const) {
    host.putFile(`/sys/fs/btrfs/0f1e/allocation/${kind}/total_bytes`, `${total}\n`);
    host.putFile(`/sys/fs/btrfs/0f1e/allocation/${kind}/bytes_used`, `${used}\n`);
    host.putFile(`/sys/fs/btrfs/0f1e/allocation/${kind}/disk_total`, `${onDisk}\n`);
  }
  host.putFile('/sys/fs/btrfs/0f1e/devices/loop0/size', '4096\n');
  if (options.docker) answerDocker(host);
  if (options.ecs) answerEcs(host);
  return host;
}

function answerDocker(host: FakeHost & { containerUsageNs: number }): void {
  host.putFile(SETTINGS.dockerSocket, '');
  host.onHttp((request: HttpRequest) => {
    if (request.socketPath !== SETTINGS.dockerSocket) return undefined;
    if (request.url === 'http://docker/containers/json') {
      return jsonResponse(200, [
        {
          Id: CONTAINER_ID,
          Names: ['/ecs-web-1'],
          Image: 'nginx:1',
          Labels: { 'com.amazonaws.ecs.task-arn': TASK_ARN },
        },
      ]);
    }
    if (request.url === `http://docker/containers/${CONTAINER_ID}/stats?stream=false&one-shot=true`) {
      return jsonResponse(200, {
        cpu_stats: { cpu_usage: { total_usage: host.containerUsageNs } },
        memory_stats: { usage: 50_000, limit: 1_000_000, stats: { inactive_file: 10_000 } },
      });
    }
    return undefined;
  });
}

function answerEcs(host: FakeHost): void {
  host.onHttp((request) => {
    if (request.url === `${SETTINGS.introspectionUrl}/v1/metadata`)
      return jsonResponse(200, { Cluster: 'prod', ContainerInstanceArn: INSTANCE_ARN, Version: 'v1' });
    if (request.url === `${SETTINGS.introspectionUrl}/v1/tasks`)
      return jsonResponse(200, { Tasks: [{ KnownStatus: 'RUNNING' }, { KnownStatus: 'STOPPED' }] });
    return undefined;
  });
}

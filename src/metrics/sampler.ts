import { randomUUID } from 'node:crypto';

import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import { CpuTracker } from './cpu.ts';
import { type DiskReading, DiskCollector } from './disks.ts';
import { DockerCollector } from './docker.ts';
import { readEcs } from './ecs.ts';
import { KeptFiles } from './kept-files.ts';
import { countProcesses, parseLoadavg, parseMeminfo, parseNetDev } from './proc.ts';
import type { AgentProcess, CollectorError, Ecs, Sample, Volume } from './sample.ts';

/**
 * Takes samples. The hot path starts no process and never waits for a disk:
 * a handful of /proc reads (of files kept open: close() closes them) and a
 * listing of /proc, which the kernel answers from memory, then statfs per mount
 * and loopback HTTP to Docker and the ECS agent, asynchronous and in parallel.
 * Host /proc figures are essential (a sample without them fails); Docker, ECS
 * and disks are reported as errors in the sample when they fail, the rest still counts.
 */
export interface SamplerSettings {
  readonly dockerSocket: string;
  readonly introspectionUrl: string;
  /** The Docker store's mount point, always reported when it is a mount of its own. */
  readonly storeMount: string;
  /** Read the store's Btrfs allocation (STORAGE_MODE is a Btrfs mode). */
  readonly storeOnBtrfs: boolean;
  /** The data volumes of VOLUMES, reported by mount point. */
  readonly volumes: readonly { readonly device: string; readonly mountPoint: string }[];
}

export function samplerSettings(config: Config): SamplerSettings {
  return {
    dockerSocket: config.METRICS_DOCKER_SOCKET,
    introspectionUrl: config.INTROSPECTION_URL,
    storeMount: '/var/lib/docker',
    storeOnBtrfs: config.STORAGE_MODE !== 'none',
    volumes: config.VOLUMES.map(({ device, mountPoint }) => ({ device, mountPoint })),
  };
}

const NO_ECS: Ecs = { agentAnswering: false, cluster: null, containerInstanceArn: null, runningTasks: null };

export class Sampler {
  readonly #host: Host;
  readonly #settings: SamplerSettings;
  readonly #files: KeptFiles;
  readonly #cpu: CpuTracker;
  readonly #disks: DiskCollector;
  readonly #docker: DockerCollector;

  constructor(host: Host, settings: SamplerSettings) {
    this.#host = host;
    this.#settings = settings;
    this.#files = new KeptFiles(host);
    this.#cpu = new CpuTracker(host, this.#files);
    this.#disks = new DiskCollector(host, this.#files, {
      alwaysReported: [settings.storeMount, ...settings.volumes.map((v) => v.mountPoint)],
      btrfsMount: settings.storeOnBtrfs ? settings.storeMount : null,
    });
    this.#docker = new DockerCollector(host, settings.dockerSocket);
  }

  async sample(): Promise<Sample> {
    const errors: CollectorError[] = [];
    const optional = <T>(collector: string, read: () => Promise<T>, fallback: T): Promise<T> =>
      read().catch((error: unknown) => {
        errors.push({ collector, message: messageOf(error) });
        return fallback;
      });
    const host = this.#host;
    const files = this.#files;
    const [cpu, memory, load, procs, network, disks, docker, ecs] = await Promise.all([
      this.#cpu.read(),
      files.read('/proc/meminfo').then(parseMeminfo),
      files.read('/proc/loadavg').then(parseLoadavg),
      host.listKernelDirectory('/proc').then(countProcesses),
      files.read('/proc/net/dev').then(parseNetDev),
      optional('disks', () => this.#disks.read(), null),
      optional('docker', () => this.#docker.read(), null),
      optional('ecs', () => readEcs(host, this.#settings.introspectionUrl), NO_ECS),
    ]);
    for (const problem of disks?.problems ?? []) errors.push({ collector: 'disks', message: problem });
    return {
      id: randomUUID(),
      time: host.now().toISOString(),
      cpu,
      load,
      memory,
      procs,
      disks: disks?.disks ?? [],
      volumes: this.#settings.volumes.map((volume) => volumeOf(volume, disks)),
      network,
      docker,
      ecs,
      agent: agentProcess(),
      errors,
    };
  }

  /** Closes the /proc files kept open between samples. */
  close(): Promise<void> {
    return this.#files.close();
  }
}

/** Figures of the data volume from the disks already measured: no statfs or process of its own. */
function volumeOf({ device, mountPoint }: SamplerSettings['volumes'][number], disks: DiskReading | null): Volume {
  const mount = disks?.mounts.find((entry) => entry.mount === mountPoint);
  const disk = disks?.disks.find((entry) => entry.mount === mountPoint);
  return {
    mountPoint,
    volume: device,
    mounted: mount !== undefined,
    device: mount?.device ?? null,
    totalBytes: disk?.totalBytes ?? null,
    usedBytes: disk?.usedBytes ?? null,
    freeBytes: disk?.freeBytes ?? null,
  };
}

function agentProcess(): AgentProcess {
  const { user, system } = process.cpuUsage();
  return { rssBytes: process.memoryUsage.rss(), cpuSeconds: (user + system) / 1e6 };
}

import type { Sample } from './sample.ts';

/**
 * A sample as Prometheus metric families, with names in node_exporter's spirit
 * under an `ecs_host_` prefix, so an operator who already scrapes node_exporter
 * can scrape this instead: rendered in the text exposition format (version
 * 0.0.4) for the scrape page, and sent as they are by remote write.
 */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Family {
  /** With the `ecs_host_` prefix. */
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly points: ReadonlyArray<readonly [Labels, number]>;
}

class Families {
  readonly list: Family[] = [];

  family(
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    points: ReadonlyArray<readonly [Labels, number | null]>,
  ): void {
    const present = points.filter((point): point is readonly [Labels, number] => point[1] !== null);
    if (present.length > 0) this.list.push({ name: `ecs_host_${name}`, type, help, points: present });
  }

  gauge(name: string, help: string, value: number | null): void {
    this.family(name, 'gauge', help, [[{}, value]]);
  }
}

export function renderPrometheus(sample: Sample): string {
  const lines: string[] = [];
  for (const { name, type, help, points } of prometheusFamilies(sample)) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of points) lines.push(`${name}${renderLabels(labels)} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

function renderLabels(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([key, value]) => `${key}="${escapeLabelValue(value)}"`).join(',')}}`;
}

/** The exposition format's escapes inside a label value: backslash, newline, double quote. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function prometheusFamilies(sample: Sample): Family[] {
  const out = new Families();
  out.family(
    'cpu_percent',
    'gauge',
    'CPU time by mode since the previous sample, percent',
    Object.entries(sample.cpu).map(([mode, value]) => [{ mode }, value]),
  );
  out.family('load', 'gauge', 'load average', [
    [{ period: '1m' }, sample.load.load1],
    [{ period: '5m' }, sample.load.load5],
    [{ period: '15m' }, sample.load.load15],
  ]);
  out.family(
    'memory_bytes',
    'gauge',
    'memory by kind, bytes',
    Object.entries(sample.memory).map(([kind, value]) => [{ kind }, value]),
  );
  out.gauge('processes', 'processes on the host', sample.procs);
  diskFamilies(out, sample);
  volumeFamilies(out, sample);
  networkFamilies(out, sample);
  out.gauge('docker_running_containers', 'running Docker containers', sample.docker?.running ?? null);
  const containers = sample.docker?.containers ?? [];
  const containerLabels = (c: (typeof containers)[number]): Labels => ({
    name: c.name,
    id: c.id.slice(0, 12),
    image: c.image,
  });
  out.family(
    'container_cpu_seconds_total',
    'counter',
    'container CPU time',
    containers.map((c) => [containerLabels(c), c.cpuSeconds]),
  );
  out.family(
    'container_memory_bytes',
    'gauge',
    'container memory without inactive page cache',
    containers.map((c) => [containerLabels(c), c.memoryBytes]),
  );
  out.gauge(
    'ecs_agent_answering',
    'the ECS agent answers its introspection API (1) or not (0)',
    sample.ecs.agentAnswering ? 1 : 0,
  );
  out.gauge('ecs_running_tasks', 'tasks the ECS agent reports RUNNING', sample.ecs.runningTasks);
  out.gauge('agent_rss_bytes', 'resident memory of ecs-host-agent', sample.agent.rssBytes);
  out.family('agent_cpu_seconds_total', 'counter', 'CPU time of ecs-host-agent', [[{}, sample.agent.cpuSeconds]]);
  out.gauge('sample_errors', 'collectors that failed in the last sample', sample.errors.length);
  return out.list;
}

function diskFamilies(out: Families, sample: Sample): void {
  const labels = (d: Sample['disks'][number]): Labels => ({ mountpoint: d.mount, device: d.device, fstype: d.fsType });
  out.family(
    'filesystem_size_bytes',
    'gauge',
    'filesystem size',
    sample.disks.map((d) => [labels(d), d.totalBytes]),
  );
  out.family(
    'filesystem_used_bytes',
    'gauge',
    'filesystem space used',
    sample.disks.map((d) => [labels(d), d.usedBytes]),
  );
  out.family(
    'filesystem_avail_bytes',
    'gauge',
    'filesystem space available to unprivileged users',
    sample.disks.map((d) => [labels(d), d.freeBytes]),
  );
  const btrfs = sample.disks.flatMap((d) => (d.btrfs ? [[d, d.btrfs] as const] : []));
  out.family(
    'btrfs_allocated_bytes',
    'gauge',
    'Btrfs space allocated to chunks',
    btrfs.flatMap(
      ([d, b]) =>
        [
          [{ ...labels(d), type: 'data' }, b.dataTotal],
          [{ ...labels(d), type: 'metadata' }, b.metadataTotal],
        ] as const,
    ),
  );
  out.family(
    'btrfs_used_bytes',
    'gauge',
    'Btrfs space used inside allocated chunks',
    btrfs.flatMap(
      ([d, b]) =>
        [
          [{ ...labels(d), type: 'data' }, b.dataUsed],
          [{ ...labels(d), type: 'metadata' }, b.metadataUsed],
        ] as const,
    ),
  );
  out.family(
    'btrfs_device_size_bytes',
    'gauge',
    'Btrfs device size, all devices together',
    btrfs.map(([d, b]) => [labels(d), b.deviceBytes] as const),
  );
  out.family(
    'btrfs_unallocated_bytes',
    'gauge',
    'Btrfs device space not allocated to any chunk',
    btrfs.map(([d, b]) => [labels(d), b.unallocatedBytes] as const),
  );
}

function volumeFamilies(out: Families, sample: Sample): void {
  const labels = (v: Sample['volumes'][number]): Labels => ({ mountpoint: v.mountPoint, volume: v.volume });
  out.family(
    'volume_mounted',
    'gauge',
    'the data volume is mounted (1) or not (0)',
    sample.volumes.map((v) => [labels(v), v.mounted ? 1 : 0]),
  );
  out.family(
    'volume_size_bytes',
    'gauge',
    'data volume size',
    sample.volumes.map((v) => [labels(v), v.totalBytes]),
  );
  out.family(
    'volume_used_bytes',
    'gauge',
    'data volume space used',
    sample.volumes.map((v) => [labels(v), v.usedBytes]),
  );
  out.family(
    'volume_avail_bytes',
    'gauge',
    'data volume space available to unprivileged users',
    sample.volumes.map((v) => [labels(v), v.freeBytes]),
  );
}

const NETWORK_COUNTERS = [
  ['receive_bytes', 'rxBytes'],
  ['receive_packets', 'rxPackets'],
  ['receive_errors', 'rxErrors'],
  ['receive_drop', 'rxDropped'],
  ['transmit_bytes', 'txBytes'],
  ['transmit_packets', 'txPackets'],
  ['transmit_errors', 'txErrors'],
  ['transmit_drop', 'txDropped'],
] as const;

function networkFamilies(out: Families, sample: Sample): void {
  for (const [name, field] of NETWORK_COUNTERS) {
    out.family(
      `network_${name}_total`,
      'counter',
      `network ${name.replace('_', ' ')}`,
      sample.network.map((n) => [{ device: n.name }, n[field]]),
    );
  }
}

import type { Dimension, MetricDatum, StandardUnit } from '../../../aws/cloudwatch.ts';
import type { Disk, Sample } from '../../../metrics/sample.ts';
import type { InstanceLabels } from '../instance.ts';

/**
 * A sample as CloudWatch metrics: the names the OpsWorks agent published per instance (so dashboards and alarms
 * carry over with a new namespace and dimensions), in OpsWorks' units (memory in kilobytes), then disk use per
 * mount (dimension MountPath), the Docker store's, and the ECS agent's running task count. Every metric has the
 * dimensions InstanceId and ClusterName, and AutoScalingGroupName when asked for. Standard resolution (60 s):
 * a host samples once a minute by default, and high resolution costs more for nothing.
 */
export interface MetricSpec {
  readonly name: string;
  readonly unit: StandardUnit;
  /** For the README's table. */
  readonly meaning: string;
  /** One metric per mount (dimension MountPath) rather than one per instance. */
  readonly perMount?: true;
}

type HostFigure = MetricSpec & { readonly value: (sample: Sample) => number | null };

const KB = 1024;
const kilobytes = (bytes: number) => Math.round(bytes / KB);

const HOST_METRICS: readonly HostFigure[] = [
  { name: 'cpu_idle', unit: 'Percent', meaning: 'CPU time idle', value: (s) => s.cpu.idle },
  { name: 'cpu_nice', unit: 'Percent', meaning: 'CPU time in user mode at low priority', value: (s) => s.cpu.nice },
  {
    name: 'cpu_steal',
    unit: 'Percent',
    meaning: 'CPU time taken by the hypervisor for other guests',
    value: (s) => s.cpu.steal,
  },
  { name: 'cpu_system', unit: 'Percent', meaning: 'CPU time in the kernel', value: (s) => s.cpu.system },
  { name: 'cpu_user', unit: 'Percent', meaning: 'CPU time in user mode', value: (s) => s.cpu.user },
  { name: 'cpu_waitio', unit: 'Percent', meaning: 'CPU time idle waiting for I/O', value: (s) => s.cpu.waitio },
  {
    name: 'memory_buffers',
    unit: 'Kilobytes',
    meaning: 'memory in buffers',
    value: (s) => kilobytes(s.memory.buffers),
  },
  {
    name: 'memory_cached',
    unit: 'Kilobytes',
    meaning: 'memory in the page cache',
    value: (s) => kilobytes(s.memory.cached),
  },
  { name: 'memory_free', unit: 'Kilobytes', meaning: 'memory free', value: (s) => kilobytes(s.memory.free) },
  { name: 'memory_swap', unit: 'Kilobytes', meaning: 'swap in use', value: (s) => kilobytes(s.memory.swapUsed) },
  { name: 'memory_total', unit: 'Kilobytes', meaning: 'memory installed', value: (s) => kilobytes(s.memory.total) },
  {
    name: 'memory_used',
    unit: 'Kilobytes',
    meaning: 'memory used (total - free - buffers - cached)',
    value: (s) => kilobytes(s.memory.used),
  },
  { name: 'load_1', unit: 'None', meaning: 'load average over 1 minute', value: (s) => s.load.load1 },
  { name: 'load_5', unit: 'None', meaning: 'load average over 5 minutes', value: (s) => s.load.load5 },
  { name: 'load_15', unit: 'None', meaning: 'load average over 15 minutes', value: (s) => s.load.load15 },
  { name: 'procs', unit: 'Count', meaning: 'processes', value: (s) => s.procs },
  {
    name: 'docker_store_used_percent',
    unit: 'Percent',
    meaning: 'used space of the filesystem holding /var/lib/docker',
    value: (s) => usedPercent(storeDisk(s)),
  },
  {
    name: 'docker_store_free',
    unit: 'Bytes',
    meaning: 'space free to unprivileged users there',
    value: (s) => storeDisk(s)?.freeBytes ?? null,
  },
  {
    name: 'ecs_running_tasks',
    unit: 'Count',
    meaning: 'tasks the ECS agent runs (when it answers)',
    value: (s) => s.ecs.runningTasks,
  },
];

type DiskFigure = MetricSpec & { readonly value: (disk: Disk) => number | null };

const DISK_METRICS: readonly DiskFigure[] = [
  {
    name: 'disk_used_percent',
    unit: 'Percent',
    meaning: 'used space, as df shows it',
    perMount: true,
    value: usedPercent,
  },
  {
    name: 'disk_free',
    unit: 'Bytes',
    meaning: 'space free to unprivileged users',
    perMount: true,
    value: (disk) => disk.freeBytes,
  },
];

/** Every metric the sink publishes, for the README (and the cost: each name and dimension set is one metric). */
export const CLOUDWATCH_METRICS: readonly MetricSpec[] = [...HOST_METRICS, ...DISK_METRICS].map(
  ({ name, unit, meaning, perMount }) => ({
    name,
    unit,
    meaning,
    ...(perMount ? { perMount } : {}),
  }),
);

const STORE = '/var/lib/docker';

export interface DatumOptions {
  /** Mount points whose disk metrics are published; null: every mount the sample has. */
  readonly mounts: readonly string[] | null;
}

/** One sample's data points; a figure the sample lacks (no ECS agent answering) is left out, not sent as 0. */
export function datumsOf(sample: Sample, instance: InstanceLabels, options: DatumOptions): MetricDatum[] {
  const dimensions = dimensionsOf(instance);
  const timestamp = new Date(sample.time);
  const datum = (spec: MetricSpec, value: number, extra: Dimension[] = []): MetricDatum => ({
    MetricName: spec.name,
    Dimensions: [...dimensions, ...extra],
    Timestamp: timestamp,
    Value: value,
    Unit: spec.unit,
    StorageResolution: 60,
  });
  const datums: MetricDatum[] = [];
  for (const spec of HOST_METRICS) {
    const value = spec.value(sample);
    if (value !== null && Number.isFinite(value)) datums.push(datum(spec, value));
  }
  const disks = sample.disks.filter((disk) => options.mounts === null || options.mounts.includes(disk.mount));
  for (const disk of disks) {
    for (const spec of DISK_METRICS) {
      const value = spec.value(disk);
      if (value !== null && Number.isFinite(value))
        datums.push(datum(spec, value, [{ Name: 'MountPath', Value: disk.mount }]));
    }
  }
  return datums;
}

function dimensionsOf(instance: InstanceLabels): Dimension[] {
  const dimensions: Dimension[] = [
    { Name: 'InstanceId', Value: instance.instanceId },
    { Name: 'ClusterName', Value: instance.cluster },
  ];
  if (instance.autoScalingGroup !== null)
    dimensions.push({ Name: 'AutoScalingGroupName', Value: instance.autoScalingGroup });
  return dimensions;
}

/** Used of what unprivileged users can have, as df's Use% (reserved blocks left out); one decimal. */
function usedPercent(disk: Disk | null): number | null {
  if (disk === null) return null;
  const capacity = disk.usedBytes + disk.freeBytes;
  return capacity === 0 ? null : Math.round((disk.usedBytes / capacity) * 1000) / 10;
}

/** The filesystem holding the Docker store: its own mount, or the mount it lives under. */
function storeDisk(sample: Sample): Disk | null {
  const holding = sample.disks.filter(
    (disk) => STORE === disk.mount || STORE.startsWith(disk.mount === '/' ? '/' : `${disk.mount}/`),
  );
  return holding.sort((a, b) => b.mount.length - a.mount.length)[0] ?? null;
}

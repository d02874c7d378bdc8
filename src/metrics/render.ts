import type { Sample } from './sample.ts';

/** One sample for a terminal (`metrics --once` without --json). */
export function renderSample(sample: Sample, dockerSocket: string): string {
  const { cpu, load, memory } = sample;
  const rows: [string, string][] = [
    ['time', sample.time],
    [
      'cpu',
      `user ${cpu.user}%  system ${cpu.system}%  nice ${cpu.nice}%  idle ${cpu.idle}%  waitio ` +
        `${cpu.waitio}%  steal ${cpu.steal}%  irq ${cpu.irq}%`,
    ],
    ['load', `${load.load1} ${load.load5} ${load.load15}`],
    [
      'memory',
      `used ${iec(memory.used)} of ${iec(memory.total)}, available ` +
        `${iec(memory.available)}, buffers ${iec(memory.buffers)}, cached ${iec(memory.cached)}`,
    ],
    ['swap', `used ${iec(memory.swapUsed)} of ${iec(memory.swapTotal)}`],
    ['procs', String(sample.procs)],
    ...sample.disks.map((d): [string, string] => [
      `disk ${d.mount}`,
      `used ${iec(d.usedBytes)} of ` +
        `${iec(d.totalBytes)}, free ${iec(d.freeBytes)} (${d.fsType} on ${d.device})${btrfs(d.btrfs)}`,
    ]),
    ...sample.volumes.map((v): [string, string] => [`volume ${v.mountPoint}`, volume(v)]),
    ...sample.network.map((n): [string, string] => [
      `net ${n.name}`,
      `rx ${iec(n.rxBytes)} (${n.rxErrors} errors)  tx ${iec(n.txBytes)} (${n.txErrors} errors)`,
    ]),
    ['docker', sample.docker === null ? `no daemon answers on ${dockerSocket}` : `${sample.docker.running} running`],
    ...(sample.docker?.containers ?? []).map((c): [string, string] => [
      `  ${c.name}`,
      `cpu ${c.cpuPercent ?? '-'}%  memory ${iec(c.memoryBytes)}  ${c.image}`,
    ]),
    [
      'ecs',
      sample.ecs.agentAnswering
        ? `agent answering, cluster ${sample.ecs.cluster}, ` +
          `${sample.ecs.containerInstanceArn ?? 'not registered'}, ${sample.ecs.runningTasks} running ` +
          `tasks`
        : 'agent not answering',
    ],
    ['agent', `rss ${iec(sample.agent.rssBytes)}, cpu ${sample.agent.cpuSeconds.toFixed(2)} s`],
    ...sample.errors.map((e): [string, string] => [`error ${e.collector}`, e.message]),
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

function btrfs(allocation: Sample['disks'][number]['btrfs']): string {
  if (!allocation) return '';
  return (
    `; btrfs data ${iec(allocation.dataUsed)}/${iec(allocation.dataTotal)}, metadata ` +
    `${iec(allocation.metadataUsed)}/${iec(allocation.metadataTotal)}, unallocated ` +
    `${iec(allocation.unallocatedBytes)} of ${iec(allocation.deviceBytes)}`
  );
}

function volume(v: Sample['volumes'][number]): string {
  if (!v.mounted) return `${v.volume} not mounted`;
  if (v.usedBytes === null || v.totalBytes === null || v.freeBytes === null)
    return `${v.volume} on ${v.device}, not measured (see errors)`;
  return `used ${iec(v.usedBytes)} of ${iec(v.totalBytes)}, free ${iec(v.freeBytes)} (${v.volume} on ${v.device})`;
}

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

function iec(count: number): string {
  const power = count < 1024 ? 0 : Math.min(IEC.length - 1, Math.floor(Math.log2(count) / 10));
  return power === 0 ? `${count} B` : `${(count / 1024 ** power).toFixed(1)} ${IEC[power]}`;
}

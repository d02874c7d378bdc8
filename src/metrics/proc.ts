import type { LoadAverage, Memory, NetworkInterface } from './sample.ts';

/**
 * Parsers for the /proc files a sample reads. They take the file's text and
 * allocate little: a sample reads these every minute for the agent's lifetime.
 */
export interface CpuTimes {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  readonly iowait: number;
  readonly irq: number;
  readonly softirq: number;
  readonly steal: number;
}

/** The aggregate "cpu" line of /proc/stat, in clock ticks since boot. */
export function parseCpuTimes(stat: string): CpuTimes {
  const end = stat.indexOf('\n');
  const fields = stat.slice(0, end === -1 ? undefined : end).split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 9)
    throw new Error(`/proc/stat does not start with the cpu line: ${JSON.stringify(stat.slice(0, 80))}`);
  const tick = (index: number): number => Number(fields[index]);
  return {
    user: tick(1),
    nice: tick(2),
    system: tick(3),
    idle: tick(4),
    iowait: tick(5),
    irq: tick(6),
    softirq: tick(7),
    steal: tick(8),
  };
}

const MEMINFO_FIELDS = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Cached',
  'SReclaimable',
  'SwapTotal',
  'SwapFree',
] as const;

/** /proc/meminfo in bytes (the file says kB and means KiB). */
export function parseMeminfo(text: string): Memory {
  const kib: Partial<Record<(typeof MEMINFO_FIELDS)[number], number>> = {};
  let wanted = MEMINFO_FIELDS.length;
  for (let start = 0; start < text.length && wanted > 0;) {
    const colon = text.indexOf(':', start);
    const end = text.indexOf('\n', start);
    if (colon === -1) break;
    const name = text.slice(start, colon) as (typeof MEMINFO_FIELDS)[number];
    if (MEMINFO_FIELDS.includes(name)) {
      kib[name] = Number.parseInt(text.slice(colon + 1, end === -1 ? undefined : end), 10);
      wanted--;
    }
    start = end === -1 ? text.length : end + 1;
  }
  const bytes = (name: (typeof MEMINFO_FIELDS)[number]): number => {
    const value = kib[name];
    if (value === undefined || Number.isNaN(value)) throw new Error(`/proc/meminfo has no ${name}`);
    return value * 1024;
  };
  const total = bytes('MemTotal');
  const free = bytes('MemFree');
  const buffers = bytes('Buffers');
  const cached = bytes('Cached') + bytes('SReclaimable');
  const swapTotal = bytes('SwapTotal');
  return {
    total,
    free,
    available: bytes('MemAvailable'),
    buffers,
    cached,
    used: Math.max(0, total - free - buffers - cached),
    swapTotal,
    swapUsed: swapTotal - bytes('SwapFree'),
  };
}

export function parseLoadavg(text: string): LoadAverage {
  const [load1, load5, load15] = text.split(' ', 3).map(Number);
  if (load1 === undefined || load5 === undefined || load15 === undefined || [load1, load5, load15].some(Number.isNaN)) {
    throw new Error(`/proc/loadavg is not three load averages: ${JSON.stringify(text.slice(0, 80))}`);
  }
  return { load1, load5, load15 };
}

/** /proc/net/dev: counters per interface since boot; the loopback interface is left out. */
export function parseNetDev(text: string): NetworkInterface[] {
  const interfaces: NetworkInterface[] = [];
  const lines = text.split('\n');
  for (let i = 2; i < lines.length; i++) {
    const line = lines[i] as string;
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim();
    if (name === 'lo') continue;
    const c = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    interfaces.push({
      name,
      rxBytes: c[0] ?? 0,
      rxPackets: c[1] ?? 0,
      rxErrors: c[2] ?? 0,
      rxDropped: c[3] ?? 0,
      txBytes: c[8] ?? 0,
      txPackets: c[9] ?? 0,
      txErrors: c[10] ?? 0,
      txDropped: c[11] ?? 0,
    });
  }
  return interfaces;
}

export interface MountEntry {
  readonly device: string;
  readonly mount: string;
  readonly fsType: string;
}

/** /proc/self/mounts, with the octal escapes (\040 for a space) decoded. */
export function parseMounts(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [device, mount, fsType] = line.split(' ', 3);
    if (device && mount && fsType) entries.push({ device: unescapeMount(device), mount: unescapeMount(mount), fsType });
  }
  return entries;
}

function unescapeMount(field: string): string {
  return field.includes('\\')
    ? field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)))
    : field;
}

/** Processes are the numeric names in /proc (threads live below them). */
export function countProcesses(names: readonly string[]): number {
  let count = 0;
  for (const name of names) {
    const first = name.charCodeAt(0);
    if (first >= 48 && first <= 57) count++;
  }
  return count;
}

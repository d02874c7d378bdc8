import type { FsStats, Host } from '../host/host.ts';

/** How full the filesystem holding a path is, as df shows it (used against used plus available). */
export interface DiskUsage {
  readonly path: string;
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly availableBytes: number;
  readonly usedPercent: number;
}

export async function diskUsage(host: Host, path: string): Promise<DiskUsage> {
  return usageOf(path, await host.statfs(path));
}

export function usageOf(path: string, stats: FsStats): DiskUsage {
  const used = (stats.blocks - stats.blocksFree) * stats.blockSize;
  const available = stats.blocksAvailable * stats.blockSize;
  const usedPercent = used + available === 0 ? 100 : Math.round((used / (used + available)) * 1000) / 10;
  return { path, sizeBytes: stats.blocks * stats.blockSize, usedBytes: used, availableBytes: available, usedPercent };
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function formatBytes(count: number): string {
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${count} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}

import type { Host } from '../../host/host.ts';
import { onDisk, runLocal } from '../../block/run.ts';
import { STORE } from './settings.ts';

/**
 * Figures from `btrfs filesystem usage -b`: byte counts, and the data and
 * metadata ratios (2.00 for DUP metadata, so one byte of metadata costs two).
 */
export interface BtrfsUsage {
  readonly deviceSize: number;
  readonly used: number;
  /** btrfs's own estimate of what can still be written, allowing for the ratios. */
  readonly freeEstimated: number;
  readonly dataRatio: number;
  readonly metadataRatio: number;
}

const FIELDS = {
  deviceSize: 'Device size',
  used: 'Used',
  freeEstimated: 'Free (estimated)',
  dataRatio: 'Data ratio',
  metadataRatio: 'Metadata ratio',
} as const;

export function parseBtrfsUsage(text: string): BtrfsUsage {
  const overall = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^\s+([A-Za-z][A-Za-z ()]*?):\s+([\d.]+)/.exec(line);
    if (match && !overall.has(match[1] as string)) overall.set(match[1] as string, Number(match[2]));
  }
  const figure = (name: string): number => {
    const value = overall.get(name);
    if (value === undefined) throw new Error(`btrfs filesystem usage printed no "${name}"`);
    return value;
  };
  return {
    deviceSize: figure(FIELDS.deviceSize),
    used: figure(FIELDS.used),
    freeEstimated: figure(FIELDS.freeEstimated),
    dataRatio: figure(FIELDS.dataRatio),
    metadataRatio: figure(FIELDS.metadataRatio),
  };
}

/** How full the store is: used against used plus what can still be written. */
export function usedPercent(usage: BtrfsUsage): number {
  const capacity = usage.used + usage.freeEstimated;
  return capacity === 0 ? 100 : Math.round((usage.used / capacity) * 1000) / 10;
}

export async function readUsage(host: Host): Promise<BtrfsUsage> {
  const { stdout } = await runLocal(host, 'btrfs', ['filesystem', 'usage', '-b', '--', onDisk(host, STORE.mountPoint)]);
  return parseBtrfsUsage(stdout);
}

/** The warning for a store fuller than STORAGE_WARN_PERCENT, or null. */
export function fullnessWarning(percent: number, warnPercent: number): string | null {
  if (percent < warnPercent) return null;
  return (
    `the Docker store ${STORE.mountPoint} is ${percent}% full ` +
    `(STORAGE_WARN_PERCENT=${warnPercent}): remove images or run storage grow`
  );
}

import type { Config } from '../../core/config/load.ts';
import type { Signature } from '../../block/probe.ts';

/** Where the store lives on the managed system, in one place. */
export const STORE = {
  mountPoint: '/var/lib/docker',
  /** The Btrfs label that marks a filesystem as the one this agent made. */
  label: 'ecs-docker-store',
  daemonJson: '/etc/docker/daemon.json',
  fstab: '/etc/fstab',
  mountUnit: '/etc/systemd/system/var-lib-docker.mount',
  mountUnitName: 'var-lib-docker.mount',
  mountUnitEnabledLink: '/etc/systemd/system/local-fs.target.wants/var-lib-docker.mount',
  /** The new filesystem is mounted here while the old store is copied onto it. */
  staging: '/var/lib/.docker-storage-staging',
  /** The old store's name between the switch and its removal. */
  retired: '/var/lib/.docker-storage-retired',
} as const;

export type StorageMode = 'btrfs-file' | 'btrfs-device';

export interface StorageSettings {
  readonly mode: StorageMode;
  readonly file: string;
  readonly size: number;
  /** A /dev path or an EBS volume id. */
  readonly device: string | null;
  readonly forceFormat: boolean;
  readonly warnPercent: number;
}

/** The storage keys of the config, or null when STORAGE_MODE=none. */
export function storageSettings(config: Config): StorageSettings | null {
  if (config.STORAGE_MODE === 'none') return null;
  return {
    mode: config.STORAGE_MODE,
    file: config.STORAGE_FILE,
    size: config.STORAGE_SIZE,
    device: config.STORAGE_DEVICE,
    forceFormat: config.STORAGE_FORCE_FORMAT,
    warnPercent: config.STORAGE_WARN_PERCENT,
  };
}

/** The filesystem this agent made: Btrfs with its label. */
export function isOwnFilesystem(signature: Signature | null): boolean {
  return signature?.type === 'btrfs' && signature.label === STORE.label && signature.partitionTable === null;
}

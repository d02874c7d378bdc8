import { absolutePath, InvalidValue, type Parse } from './values.ts';

/**
 * VOLUMES: data volumes to format (only when empty) and mount, one entry per
 * volume, separated by ";": `DEVICE:FSTYPE:MOUNTPOINT[:OPTIONS]`, where
 * DEVICE is an EBS volume id or a /dev path and OPTIONS are fstab options,
 * e.g. `vol-0123456789abcdef0:xfs:/data:noatime;/dev/nvme2n1:ext4:/logs`.
 */
const VOLUME_ID = /^vol-([0-9a-f]{8,17})$/;

/** An EBS volume id, as STORAGE_DEVICE and VOLUMES may name a device. */
export function isVolumeId(device: string): boolean {
  return VOLUME_ID.test(device);
}

export const FILESYSTEMS = ['xfs', 'ext4', 'btrfs'] as const;
export type Filesystem = (typeof FILESYSTEMS)[number];

export interface VolumeSpec {
  readonly device: string;
  readonly fstype: Filesystem;
  readonly mountPoint: string;
  /** fstab options as given; nofail is added when persisted. */
  readonly options: string;
}

const ALLOWED =
  'entries DEVICE:FSTYPE:MOUNTPOINT[:OPTIONS] separated by ";", e.g. vol-0123456789abcdef0:xfs:/data:noatime';
/** Mount points that belong to the system (or to the Docker store): never a data volume's. */
const RESERVED = [
  '/',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/proc',
  '/run',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/lib',
  '/var/lib/docker',
  '/var/lib/ecs',
];
const OPTIONS = /^[A-Za-z0-9_=.,:/+-]+$/;

export const parseVolumes: Parse<readonly VolumeSpec[]> = (raw) => {
  if (raw === '') return [];
  const volumes = raw.split(';').map(parseEntry);
  for (const field of ['device', 'mountPoint'] as const) {
    const seen = new Set<string>();
    for (const volume of volumes) {
      if (seen.has(volume[field]))
        throw new InvalidValue(`names ${volume[field]} twice`, `${ALLOWED}; each device and mount point once`);
      seen.add(volume[field]);
    }
  }
  return volumes;
};

function parseEntry(entry: string): VolumeSpec {
  const [device = '', fstype = '', mountPoint = '', ...rest] = entry.split(':');
  const options = rest.join(':') || 'defaults';
  if (!isVolumeId(device) && !/^\/dev\/[A-Za-z0-9/_.-]+$/.test(device))
    throw new InvalidValue(
      `has a device ${JSON.stringify(device)} that is neither a /dev path nor an EBS volume id`,
      ALLOWED,
    );
  if (!(FILESYSTEMS as readonly string[]).includes(fstype))
    throw new InvalidValue(
      `has a filesystem ${JSON.stringify(fstype)}`,
      `${ALLOWED}; FSTYPE one of ${FILESYSTEMS.join(', ')}`,
    );
  const path = mountPointOf(mountPoint);
  if (!OPTIONS.test(options))
    throw new InvalidValue(
      `has mount options ${JSON.stringify(options)} with characters fstab cannot hold`,
      `${ALLOWED}; OPTIONS without spaces`,
    );
  return { device, fstype: fstype as Filesystem, mountPoint: path, options };
}

function mountPointOf(raw: string): string {
  let path: string;
  try {
    path = absolutePath(raw).replace(/\/+$/, '') || '/';
  } catch {
    throw new InvalidValue(`has a mount point ${JSON.stringify(raw)} that is not an absolute path`, ALLOWED);
  }
  if (RESERVED.includes(path) || /\s/.test(path))
    throw new InvalidValue(
      `has the mount point ${path}, which belongs to the system`,
      `${ALLOWED}; a directory of its own such as /data`,
    );
  return path;
}

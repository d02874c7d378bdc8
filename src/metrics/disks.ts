import type { FsStats, Host } from '../host/host.ts';
import { type MountEntry, parseMounts } from './proc.ts';
import type { BtrfsAllocation, Disk } from './sample.ts';

/**
 * Disk usage of the real mounts: block devices and network filesystems, one
 * entry per device (bind mounts and subvolumes of the same device are one
 * disk), plus the Docker store wherever it is mounted. statfs(2) per mount,
 * no df process. A hung network filesystem would block statfs for as long as
 * the server is away: each call has a timeout, and a mount whose earlier call
 * has not returned is skipped rather than asked again, so hung calls cannot
 * pile up in libuv's small thread pool.
 */
const NETWORK_FS = new Set(['nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'ceph', 'glusterfs', 'fuse.glusterfs', 'fuse.sshfs', '9p', 'lustre', 'afs']);
/** Read-only images that are always full: snaps, live media. */
const IMAGE_FS = new Set(['squashfs', 'iso9660']);
const STATFS_TIMEOUT_MS = 2000;

export class DiskCollector {
  readonly #host: Host;
  readonly #alwaysReported: string;
  readonly #pending = new Set<string>();
  readonly #btrfs: BtrfsSysfs;

  /** alwaysReported: a mount point reported even when its device is already listed (the Docker store). */
  constructor(host: Host, alwaysReported: string) {
    this.#host = host;
    this.#alwaysReported = alwaysReported;
    this.#btrfs = new BtrfsSysfs(host);
  }

  /** Disks, and the mounts that could not be measured this time (a message each). */
  async read(): Promise<{ disks: Disk[]; problems: string[] }> {
    const mounts = realMounts(parseMounts(await this.#host.readText('/proc/self/mounts')), this.#alwaysReported);
    const problems: string[] = [];
    const disks: Disk[] = [];
    const results = await Promise.all(mounts.map((entry) => this.#measure(entry)));
    for (const [index, result] of results.entries()) {
      if (typeof result === 'string') problems.push(result);
      else disks.push(await this.#withBtrfs(mounts[index] as MountEntry, result));
    }
    return { disks, problems };
  }

  async #measure(entry: MountEntry): Promise<Disk | string> {
    if (this.#pending.has(entry.mount)) return `${entry.mount}: statfs still has not returned from an earlier sample (${entry.fsType} server away?)`;
    this.#pending.add(entry.mount);
    const call = this.#host.statfs(entry.mount).finally(() => this.#pending.delete(entry.mount));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STATFS_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const stats = await Promise.race([call, timeout]);
      if (stats === 'timeout') return `${entry.mount}: statfs timed out after ${STATFS_TIMEOUT_MS} ms (${entry.fsType})`;
      return toDisk(entry, stats);
    } catch (error) {
      return `${entry.mount}: statfs failed: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }

  async #withBtrfs(entry: MountEntry, disk: Disk): Promise<Disk> {
    if (entry.fsType !== 'btrfs') return disk;
    const btrfs = await this.#btrfs.allocation(entry.device);
    return btrfs ? { ...disk, btrfs } : disk;
  }
}

export function realMounts(entries: readonly MountEntry[], alwaysReported: string): MountEntry[] {
  const seenDevices = new Set<string>();
  const chosen: MountEntry[] = [];
  for (const entry of entries) {
    const real = (entry.device.startsWith('/') && !IMAGE_FS.has(entry.fsType)) || NETWORK_FS.has(entry.fsType);
    if (!real) continue;
    if (seenDevices.has(entry.device) && entry.mount !== alwaysReported) continue;
    if (chosen.some((c) => c.mount === entry.mount)) continue;
    seenDevices.add(entry.device);
    chosen.push(entry);
  }
  return chosen;
}

function toDisk(entry: MountEntry, stats: FsStats): Disk {
  return {
    mount: entry.mount,
    device: entry.device,
    fsType: entry.fsType,
    totalBytes: stats.blocks * stats.blockSize,
    usedBytes: (stats.blocks - stats.blocksFree) * stats.blockSize,
    freeBytes: stats.blocksAvailable * stats.blockSize,
    inodesTotal: stats.files,
    inodesFree: stats.filesFree,
  };
}

const BTRFS_SYSFS = '/sys/fs/btrfs';

/**
 * Btrfs data and metadata allocation from /sys/fs/btrfs/<fsid>/allocation
 * (what `btrfs filesystem usage` prints, without starting it). The fsid of a
 * device is found through /sys/fs/btrfs/<fsid>/devices/<name>.
 */
class BtrfsSysfs {
  readonly #host: Host;
  #fsidByDevice = new Map<string, string>();

  constructor(host: Host) {
    this.#host = host;
  }

  async allocation(device: string): Promise<BtrfsAllocation | null> {
    const name = device.slice(device.lastIndexOf('/') + 1);
    if (!this.#fsidByDevice.has(name)) this.#fsidByDevice = await this.#scan();
    const fsid = this.#fsidByDevice.get(name);
    if (fsid === undefined) return null;
    const figure = async (kind: string, file: string): Promise<number> =>
      Number((await this.#host.readText(`${BTRFS_SYSFS}/${fsid}/allocation/${kind}/${file}`)).trim());
    try {
      return {
        dataTotal: await figure('data', 'total_bytes'),
        dataUsed: await figure('data', 'bytes_used'),
        metadataTotal: await figure('metadata', 'total_bytes'),
        metadataUsed: await figure('metadata', 'bytes_used'),
      };
    } catch {
      this.#fsidByDevice.delete(name); // unmounted since the scan
      return null;
    }
  }

  async #scan(): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    const entries = (await this.#host.stat(BTRFS_SYSFS)) ? await this.#host.readdir(BTRFS_SYSFS) : [];
    for (const fsid of entries) {
      if (fsid === 'features') continue;
      const devices = await this.#host.readdir(`${BTRFS_SYSFS}/${fsid}/devices`).catch(() => []);
      for (const device of devices) map.set(device, fsid);
    }
    return map;
  }
}

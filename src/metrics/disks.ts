import type { FsStats, Host } from '../host/host.ts';
import type { KeptFiles } from './kept-files.ts';
import { type MountEntry, parseMounts } from './proc.ts';
import type { BtrfsAllocation, Disk } from './sample.ts';

/**
 * Disk usage of the real mounts: block devices and network filesystems, one
 * entry per device (bind mounts and subvolumes of the same device are one
 * disk), plus the Docker store and the data volumes wherever they are mounted.
 * statfs(2) per mount, no df process. A hung network filesystem would block
 * statfs for as long as the server is away: each call has a timeout, and a
 * mount whose earlier call has not returned is skipped rather than asked
 * again, so hung calls cannot pile up in libuv's small thread pool.
 */
const NETWORK_FS = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ceph',
  'glusterfs',
  'fuse.glusterfs',
  'fuse.sshfs',
  '9p',
  'lustre',
  'afs',
]);
/** Read-only images that are always full: snaps, live media. */
const IMAGE_FS = new Set(['squashfs', 'iso9660']);
const STATFS_TIMEOUT_MS = 2000;

export interface DiskSettings {
  /** Mount points reported even when their device is already listed (the Docker store, the data volumes). */
  readonly alwaysReported: readonly string[];
  /** The mount whose Btrfs allocation is read (the Docker store when STORAGE_MODE is a Btrfs mode), or null. */
  readonly btrfsMount: string | null;
}

export interface DiskReading {
  readonly disks: Disk[];
  /** The mounts measured or tried, whether or not statfs answered. */
  readonly mounts: MountEntry[];
  /** Mounts that could not be measured this time, a message each. */
  readonly problems: string[];
}

export class DiskCollector {
  readonly #host: Host;
  readonly #files: KeptFiles;
  readonly #settings: DiskSettings;
  readonly #pending = new Set<string>();
  readonly #btrfs: BtrfsSysfs;
  /** The mount table as last read, and the mounts chosen from it: parsed again only when it changed. */
  #table = { text: '', mounts: [] as MountEntry[] };

  constructor(host: Host, files: KeptFiles, settings: DiskSettings) {
    this.#host = host;
    this.#files = files;
    this.#settings = settings;
    this.#btrfs = new BtrfsSysfs(host);
  }

  async read(): Promise<DiskReading> {
    const mounts = this.#mounts(await this.#files.read('/proc/self/mounts'));
    const problems: string[] = [];
    const disks: Disk[] = [];
    const results = await Promise.all(mounts.map((entry) => this.#measure(entry)));
    for (const [index, result] of results.entries()) {
      if (typeof result === 'string') problems.push(result);
      else disks.push(await this.#withBtrfs(mounts[index] as MountEntry, result));
    }
    return { disks, mounts, problems };
  }

  /** A Docker host's table grows with two mounts per container; it changes far less often than it is read. */
  #mounts(text: string): MountEntry[] {
    if (text !== this.#table.text)
      this.#table = { text, mounts: realMounts(parseMounts(text), this.#settings.alwaysReported) };
    return this.#table.mounts;
  }

  async #measure(entry: MountEntry): Promise<Disk | string> {
    if (this.#pending.has(entry.mount))
      return `${entry.mount}: statfs still has not returned from an earlier sample (${entry.fsType} server away?)`;
    this.#pending.add(entry.mount);
    const call = this.#host.statfs(entry.mount).finally(() => this.#pending.delete(entry.mount));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), STATFS_TIMEOUT_MS);
      timer.unref();
    });
    try {
      const stats = await Promise.race([call, timeout]);
      if (stats === 'timeout')
        return `${entry.mount}: statfs timed out after ${STATFS_TIMEOUT_MS} ms (${entry.fsType})`;
      return toDisk(entry, stats);
    } catch (error) {
      return `${entry.mount}: statfs failed: ${(error as Error).message}`;
    } finally {
      clearTimeout(timer);
    }
  }

  async #withBtrfs(entry: MountEntry, disk: Disk): Promise<Disk> {
    if (entry.fsType !== 'btrfs' || entry.mount !== this.#settings.btrfsMount) return disk;
    const btrfs = await this.#btrfs.allocation(entry.device);
    return btrfs ? { ...disk, btrfs } : disk;
  }
}

export function realMounts(entries: readonly MountEntry[], alwaysReported: readonly string[]): MountEntry[] {
  const seenDevices = new Set<string>();
  const chosen: MountEntry[] = [];
  for (const entry of entries) {
    const real = (entry.device.startsWith('/') && !IMAGE_FS.has(entry.fsType)) || NETWORK_FS.has(entry.fsType);
    if (!real) continue;
    if (seenDevices.has(entry.device) && !alwaysReported.includes(entry.mount)) continue;
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
const DEVICE_MAPPER = '/dev/mapper/';
const SECTOR_BYTES = 512;

/**
 * Btrfs allocation from /sys/fs/btrfs/<fsid>/allocation: what `btrfs
 * filesystem usage` prints, without starting it. The fsid of a mounted device
 * is found by listing /sys/fs/btrfs/<fsid>/devices/<name> (the kernel's name
 * of each member device; dm-N/dm/name for /dev/mapper names) once, and again
 * only when a device is asked for that the last listing did not have.
 */
class BtrfsSysfs {
  readonly #host: Host;
  #fsidByDevice = new Map<string, string>();
  /** Devices the last listing did not find: not listed again for them every sample. */
  readonly #unknown = new Set<string>();

  constructor(host: Host) {
    this.#host = host;
  }

  async allocation(device: string): Promise<BtrfsAllocation | null> {
    const fsid = await this.#fsidOf(device);
    if (fsid === undefined) return null;
    try {
      return await this.#read(fsid);
    } catch {
      this.#fsidByDevice.delete(device); // unmounted since the listing
      return null;
    }
  }

  async #read(fsid: string): Promise<BtrfsAllocation> {
    const base = `${BTRFS_SYSFS}/${fsid}`;
    const figure = async (path: string): Promise<number> =>
      Number((await this.#host.readText(`${base}/${path}`)).trim());
    const kind = async (name: string) => {
      const [total, used, onDisk] = await Promise.all(
        ['total_bytes', 'bytes_used', 'disk_total'].map((file) => figure(`allocation/${name}/${file}`)),
      );
      return { total: total as number, used: used as number, onDisk: onDisk as number };
    };
    const deviceBytes = async (): Promise<number> => {
      const sectors = await Promise.all(
        (await this.#host.readdir(`${base}/devices`)).map((name) => figure(`devices/${name}/size`)),
      );
      return sectors.reduce((sum, count) => sum + count * SECTOR_BYTES, 0);
    };
    const [data, metadata, systemOnDisk, size] = await Promise.all([
      kind('data'),
      kind('metadata'),
      figure('allocation/system/disk_total'),
      deviceBytes(),
    ]);
    return {
      dataTotal: data.total,
      dataUsed: data.used,
      metadataTotal: metadata.total,
      metadataUsed: metadata.used,
      deviceBytes: size,
      // Chunks take room on every device a profile writes to (DUP metadata twice): disk_total, not total_bytes.
      unallocatedBytes: Math.max(0, size - data.onDisk - metadata.onDisk - systemOnDisk),
    };
  }

  async #fsidOf(device: string): Promise<string | undefined> {
    if (!this.#fsidByDevice.has(device) && !this.#unknown.has(device)) {
      this.#fsidByDevice = await this.#list();
      this.#unknown.clear();
      if (!this.#fsidByDevice.has(device)) this.#unknown.add(device);
    }
    return this.#fsidByDevice.get(device);
  }

  /** Device paths as /proc/self/mounts names them (/dev/loop0, /dev/mapper/vg-docker) to their fsid. */
  async #list(): Promise<Map<string, string>> {
    const map = new Map<string, string>();
    const entries = (await this.#host.stat(BTRFS_SYSFS)) ? await this.#host.readdir(BTRFS_SYSFS) : [];
    for (const fsid of entries) {
      if (fsid === 'features') continue;
      const devices = await this.#host.readdir(`${BTRFS_SYSFS}/${fsid}/devices`).catch(() => []);
      for (const name of devices) {
        map.set(`/dev/${name}`, fsid);
        if (name.startsWith('dm-')) {
          const mapped = await this.#host.readText(`${BTRFS_SYSFS}/${fsid}/devices/${name}/dm/name`).catch(() => '');
          if (mapped.trim()) map.set(`${DEVICE_MAPPER}${mapped.trim()}`, fsid);
        }
      }
    }
    return map;
  }
}

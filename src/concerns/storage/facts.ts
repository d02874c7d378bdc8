import type { ConcernContext } from '../../core/concern.ts';
import type { Host } from '../../host/host.ts';
import { readTextIfExists } from '../../host/host.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { resolveDevice } from '../../block/device.ts';
import { activeDockerUnits, dockerRunsOutsideSystemd } from './docker-service.ts';
import { loopDevicesOf, type Mount, mountAt, probeSignature, type Signature } from '../../block/probe.ts';
import { onDisk } from '../../block/run.ts';
import { STORE, type StorageSettings } from './settings.ts';
import { btrfsPackage } from './tools.ts';
import { readUsage, usedPercent } from './usage.ts';

/** What holds the filesystem: the sparse file or the block device. */
export interface Backing {
  /** A file is mounted through a loop device. */
  readonly kind: 'file' | 'device';
  /** For messages: the file's managed path, or the device as configured (and what it resolved to). */
  readonly name: string;
  /** The path of this machine that mkfs and mount are given. */
  readonly source: string;
  /** File mode: the file exists. Device mode: always true (a missing device is an error). */
  readonly exists: boolean;
  /** Apparent size in bytes (0 when the file does not exist). */
  readonly size: number;
  /** File mode: bytes the file really takes on disk. */
  readonly allocated: number | null;
  readonly signature: Signature | null;
}

export interface StoreFacts {
  readonly backing: Backing;
  /** What is mounted on /var/lib/docker, if anything. */
  readonly mount: Mount | null;
  /** The mount on /var/lib/docker is the backing's filesystem. */
  readonly mountedFromBacking: boolean;
  /** /var/lib/docker holds data that is not on the Btrfs store: it must be moved there. */
  readonly oldStoreHasData: boolean;
  /** The old store, moved aside by a switch that stopped before removing it. */
  readonly retiredLeftover: boolean;
  readonly fstab: string;
  readonly mountUnit: string | null;
  readonly mountUnitEnabled: boolean;
  readonly daemonJson: string | null;
  /** A dockerd pid file when Docker runs without systemd (the switch must then be refused). */
  readonly unmanagedDocker: string | null;
}

export interface StorageFacts {
  readonly settings: StorageSettings;
  readonly btrfsPackage: string;
  readonly toolsInstalled: boolean;
  /**
   * The managed system is running here: the store can be made and mounted.
   * False for an image root being baked, where only the tools are installed.
   */
  readonly live: boolean;
  /** Null when not live. */
  readonly store: StoreFacts | null;
  /** The Docker units systemd runs now: the switch of the store stops them and starts them again. */
  readonly dockerUnits: readonly string[];
  /** How full the mounted store is (see usedPercent); null when it is not mounted. */
  readonly usedPercent: number | null;
}

export async function gatherStorage(
  context: ConcernContext,
  settings: StorageSettings,
  packages: PackageManager,
  live: boolean,
): Promise<StorageFacts> {
  const name = btrfsPackage(packages.name);
  const toolsInstalled = (await packages.installedVersion(name)) !== null;
  const store = live ? await gatherStore(context, settings) : null;
  const percent = store?.mountedFromBacking ? usedPercent(await readUsage(context.host)) : null;
  const dockerUnits = store === null ? [] : await activeDockerUnits(context.host, context.os.systemdRunning === true);
  return { settings, btrfsPackage: name, toolsInstalled, live, store, usedPercent: percent, dockerUnits };
}

export async function gatherStore(context: ConcernContext, settings: StorageSettings): Promise<StoreFacts> {
  const { host } = context;
  const backing =
    settings.mode === 'btrfs-file'
      ? await fileBacking(host, settings.file)
      : await deviceBacking(host, settings.device as string);
  const mount = await mountAt(host, onDisk(host, STORE.mountPoint));
  const mountedFromBacking = mount !== null && (await isBackingSource(host, settings, backing, mount.source));
  return {
    backing,
    mount,
    mountedFromBacking,
    oldStoreHasData: !mountedFromBacking && (await hasEntries(host, STORE.mountPoint)),
    retiredLeftover: (await host.lstat(STORE.retired)) !== null,
    fstab: (await readTextIfExists(host, STORE.fstab)) ?? '',
    mountUnit: await readTextIfExists(host, STORE.mountUnit),
    mountUnitEnabled: (await host.lstat(STORE.mountUnitEnabledLink)) !== null,
    daemonJson: await readTextIfExists(host, STORE.daemonJson),
    unmanagedDocker: await dockerRunsOutsideSystemd(host, context.os.systemdRunning === true),
  };
}

async function fileBacking(host: Host, file: string): Promise<Backing> {
  const info = await host.stat(file);
  const source = onDisk(host, file);
  return {
    kind: 'file',
    name: file,
    source,
    exists: info !== null,
    size: info?.size ?? 0,
    allocated: info?.allocated ?? 0,
    signature: info === null ? null : await probeSignature(host, source),
  };
}

async function deviceBacking(host: Host, device: string): Promise<Backing> {
  const found = await resolveDevice(host, device, `STORAGE_DEVICE=${device}`);
  return {
    kind: 'device',
    name: found.path === device ? device : `${device} (${found.path})`,
    source: found.path,
    exists: true,
    size: found.size,
    allocated: null,
    signature: await probeSignature(host, found.path),
  };
}

async function isBackingSource(
  host: Host,
  settings: StorageSettings,
  backing: Backing,
  source: string,
): Promise<boolean> {
  if (settings.mode === 'btrfs-device') return source === backing.source;
  return backing.exists && (await loopDevicesOf(host, backing.source)).includes(source);
}

export async function hasEntries(host: Host, path: string): Promise<boolean> {
  const info = await host.stat(path);
  return info?.kind === 'directory' && (await host.readdir(path)).length > 0;
}

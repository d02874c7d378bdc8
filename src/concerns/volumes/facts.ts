import type { ConcernContext } from '../../core/concern.ts';
import { readTextIfExists } from '../../host/host.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { resolveDevice } from '../../block/device.ts';
import { fstabEntry, fstabLines } from '../../block/fstab.ts';
import { type Mount, mountAt, probeSignature, type Signature } from '../../block/probe.ts';
import { onDisk } from '../../block/run.ts';
import { btrfsPackage } from '../storage/tools.ts';
import type { Filesystem, VolumeSpec } from '../../core/config/volumes.ts';

export const FSTAB = '/etc/fstab';

export interface VolumeFacts {
  readonly spec: VolumeSpec;
  /** The block device of this machine (an EBS volume id resolved to its NVMe name). */
  readonly device: string;
  /** For messages: the device as configured, and what it resolved to. */
  readonly name: string;
  readonly signature: Signature | null;
  /** What is mounted on the mount point, if anything. */
  readonly mount: Mount | null;
  /** fstab's line for the mount point, if any. */
  readonly fstabLine: string | null;
  /** The mount point as a path of this machine, where mount mounts it (below the root of a scratch system). */
  readonly target: string;
}

export interface VolumesFacts {
  /** Packages with the mkfs tools the volumes need that are not installed. */
  readonly missingPackages: readonly string[];
  /** False for an image root: nothing there is formatted or mounted. */
  readonly live: boolean;
  /** Empty when not live. */
  readonly volumes: readonly VolumeFacts[];
  readonly fstab: string;
}

export function toolsPackage(fstype: Filesystem, packages: PackageManager): string {
  if (fstype === 'btrfs') return btrfsPackage(packages.name);
  return fstype === 'xfs' ? 'xfsprogs' : 'e2fsprogs';
}

export async function gatherVolumes(
  context: ConcernContext,
  specs: readonly VolumeSpec[],
  packages: PackageManager,
  live: boolean,
): Promise<VolumesFacts> {
  const missing: string[] = [];
  for (const name of new Set(specs.map((spec) => toolsPackage(spec.fstype, packages)))) {
    if ((await packages.installedVersion(name)) === null) missing.push(name);
  }
  const fstab = (await readTextIfExists(context.host, FSTAB)) ?? '';
  const volumes = live ? await Promise.all(specs.map((spec) => gatherVolume(context, spec, fstab))) : [];
  return { missingPackages: missing, live, volumes, fstab };
}

async function gatherVolume(context: ConcernContext, spec: VolumeSpec, fstab: string): Promise<VolumeFacts> {
  const { host } = context;
  const found = await resolveDevice(host, spec.device, `VOLUMES: ${spec.device}`);
  return {
    spec,
    device: found.path,
    name: found.path === spec.device ? spec.device : `${spec.device} (${found.path})`,
    signature: await probeSignature(host, found.path),
    mount: await mountAt(host, onDisk(host, spec.mountPoint)),
    fstabLine: fstabEntry(fstabLines(fstab), spec.mountPoint)?.line ?? null,
    target: onDisk(host, spec.mountPoint),
  };
}

import type { PackageManagerName } from '../../os/support.ts';

/** The package that brings mkfs.btrfs and btrfs(8); SUSE spells it without the dash. */
const BTRFS_PACKAGES: Readonly<Record<PackageManagerName, string>> = {
  apt: 'btrfs-progs',
  dnf: 'btrfs-progs',
  yum: 'btrfs-progs',
  zypper: 'btrfsprogs',
};

export function btrfsPackage(manager: PackageManagerName): string {
  return BTRFS_PACKAGES[manager];
}

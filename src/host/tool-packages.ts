/**
 * The Debian and Ubuntu package that provides each command the agent runs on the machine itself (directly, or
 * as the tool that reaches into an image root: rpm --root, dnf --installroot, zypper --root, chroot ...), so
 * that a build host missing one is told what to install. Commands that only run inside a root are not here.
 */
const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  rpm: 'rpm',
  dnf: 'dnf',
  zypper: 'zypper',
  chroot: 'coreutils',
  systemctl: 'systemd',
  useradd: 'passwd',
  usermod: 'passwd',
  userdel: 'passwd',
  groupadd: 'passwd',
  groupmod: 'passwd',
  groupdel: 'passwd',
  gpasswd: 'passwd',
  chage: 'passwd',
  passwd: 'passwd',
  gpg: 'gpg',
  visudo: 'sudo',
  'mkfs.btrfs': 'btrfs-progs',
  btrfs: 'btrfs-progs',
  'mkfs.xfs': 'xfsprogs',
  'mkfs.ext4': 'e2fsprogs',
  losetup: 'mount',
  mount: 'mount',
  umount: 'mount',
  blkid: 'util-linux',
};

export function debianPackageOf(tool: string): string | null {
  return Object.hasOwn(DEBIAN_PACKAGES, tool) ? (DEBIAN_PACKAGES[tool] ?? null) : null;
}

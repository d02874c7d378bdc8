/**
 * How each tool that changes a system is pointed at an image root instead of
 * this machine. One table, so no concern ever builds a chroot command itself.
 * Tools not listed run on this machine unchanged (mkfs, mount, losetup, gpg).
 */
type Retarget = (root: string, file: string, args: readonly string[]) => readonly [string, readonly string[]];

const inChroot: Retarget = (root, file, args) => ['chroot', [root, file, ...args]];
const withOption =
  (option: (root: string) => readonly string[]): Retarget =>
  (root, file, args) => [file, [...option(root), ...args]];

const RETARGETS: Readonly<Record<string, Retarget>> = {
  'apt-get': inChroot,
  'apt-cache': inChroot,
  dpkg: inChroot,
  'dpkg-query': inChroot,
  'debconf-set-selections': inChroot,
  'unattended-upgrade': inChroot,
  'update-alternatives': inChroot,
  'amazon-linux-extras': inChroot,
  dnf: withOption((root) => [`--installroot=${root}`]),
  yum: withOption((root) => [`--installroot=${root}`]),
  rpm: withOption((root) => ['--root', root]),
  zypper: withOption((root) => ['--root', root]),
  systemctl: withOption((root) => [`--root=${root}`]),
  useradd: withOption((root) => ['--root', root]),
  usermod: withOption((root) => ['--root', root]),
  userdel: withOption((root) => ['--root', root]),
  groupadd: withOption((root) => ['--root', root]),
  groupmod: withOption((root) => ['--root', root]),
  groupdel: withOption((root) => ['--root', root]),
  gpasswd: withOption((root) => ['--root', root]),
  chage: withOption((root) => ['--root', root]),
  passwd: withOption((root) => ['--root', root]),
};

export function retarget(root: string, file: string, args: readonly string[]): readonly [string, readonly string[]] {
  const rule = RETARGETS[file];
  return root === '/' || rule === undefined ? [file, args] : rule(root, file, args);
}

export function isRetargeted(file: string): boolean {
  return file in RETARGETS;
}

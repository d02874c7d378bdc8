import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';
import { parseDpkgStatus } from './dpkg-status.ts';
import type { PackageManager } from './package-manager.ts';
import { describe, LOCK_TIMEOUT_SECONDS, type PackageCommand, runPackageCommand } from './transaction.ts';

const DPKG_STATUS = '/var/lib/dpkg/status';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
const LOCK_OPTION = ['-o', `DPkg::Lock::Timeout=${LOCK_TIMEOUT_SECONDS}`];

export function aptPackageManager(host: Host): PackageManager {
  const commands = (packages: readonly string[]): PackageCommand[] => [
    { file: 'apt-get', args: [...LOCK_OPTION, 'update'], env: APT_ENV },
    {
      file: 'apt-get',
      args: [...LOCK_OPTION, '-o', 'Dpkg::Options::=--force-confold', 'install', '-y', '--no-install-recommends', '--', ...packages],
      env: APT_ENV,
    },
  ];
  return {
    name: 'apt',
    async installedVersion(name) {
      const entry = parseDpkgStatus((await readTextIfExists(host, DPKG_STATUS)) ?? '').get(name);
      return entry?.installed ? entry.version : null;
    },
    async install(packages) {
      for (const command of commands(packages)) await runPackageCommand(host, command);
    },
    describeInstall: (packages) => commands(packages).map(describe),
  };
}

import { CommandError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import type { PackageManagerName } from '../os/support.ts';
import type { PackageManager } from './package-manager.ts';
import { describe, LOCK_TIMEOUT_SECONDS, type PackageCommand, runPackageCommand } from './transaction.ts';

type RpmManager = Exclude<PackageManagerName, 'apt'>;

/** zypper exit statuses 100-106 report information (updates, reboot needed), not failure. */
const ZYPPER_OK = [0, 100, 101, 102, 103, 106];

const INSTALL: Readonly<Record<RpmManager, (packages: readonly string[]) => PackageCommand>> = {
  // dnf and yum wait for their own lock.
  dnf: (packages) => ({ file: 'dnf', args: ['install', '-y', '--', ...packages] }),
  yum: (packages) => ({ file: 'yum', args: ['install', '-y', '--', ...packages] }),
  zypper: (packages) => ({
    file: 'zypper',
    args: ['--non-interactive', 'install', '--no-recommends', '--', ...packages],
    env: { ZYPP_LOCK_TIMEOUT: String(LOCK_TIMEOUT_SECONDS) },
    okExitCodes: ZYPPER_OK,
  }),
};

/** dnf, yum and zypper systems share the rpm database; rpm -q answers for all three. */
export function rpmPackageManager(name: RpmManager, host: Host): PackageManager {
  return {
    name,
    async installedVersion(packageName) {
      const args = ['-q', '--queryformat', '%{VERSION}-%{RELEASE}', '--', packageName];
      const result = await host.exec('rpm', args, { timeoutMs: 60_000 });
      if (result.exitCode === 0) return result.stdout.trim();
      if (/is not installed/.test(result.stdout + result.stderr)) return null;
      throw new CommandError(['rpm', ...args], result.exitCode, result.stderr);
    },
    install: (packages) => runPackageCommand(host, INSTALL[name](packages)),
    describeInstall: (packages) => [describe(INSTALL[name](packages))],
  };
}

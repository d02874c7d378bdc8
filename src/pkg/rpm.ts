import { CommandError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import type { PackageManagerName } from '../os/support.ts';
import type { PackageManager } from './package-manager.ts';

/** dnf, yum and zypper systems share the rpm database; rpm -q answers for all three. */
export function rpmPackageManager(name: Exclude<PackageManagerName, 'apt'>, host: Host): PackageManager {
  return {
    name,
    async installedVersion(packageName) {
      const args = ['-q', '--queryformat', '%{VERSION}-%{RELEASE}', '--', packageName];
      const result = await host.exec('rpm', args, { timeoutMs: 60_000 });
      if (result.exitCode === 0) return result.stdout.trim();
      if (/is not installed/.test(result.stdout + result.stderr)) return null;
      throw new CommandError(['rpm', ...args], result.exitCode, result.stderr);
    },
  };
}

import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { PackageManagerName } from '../os/support.ts';
import { aptPackageManager } from './apt.ts';
import { rpmPackageManager } from './rpm.ts';

/** What concerns need from a distribution's package manager. */
export interface PackageManager {
  readonly name: PackageManagerName;
  /** Version of an installed package, or null when it is not installed. */
  installedVersion(name: string): Promise<string | null>;
  /**
   * The newest version of a package the configured repositories offer (their
   * metadata refreshed first), or null when none has it: whether installing it
   * can work at all, before anything is planned.
   */
  availableVersion(name: string): Promise<string | null>;
  /**
   * Installs packages, by name or as package files already inside the managed
   * system, in one transaction; waits for the package-manager lock and retries
   * transient download failures.
   */
  install(packages: readonly string[]): Promise<void>;
  /** The commands install runs, for `plan`. */
  describeInstall(packages: readonly string[]): string[];
}

/** logger: where retries of failed downloads are reported; callers that only ask what is installed may leave it out. */
export function packageManagerFor(name: PackageManagerName, host: Host, logger?: Logger): PackageManager {
  return name === 'apt' ? aptPackageManager(host, logger) : rpmPackageManager(name, host, logger);
}

/** The first of several alternative package names that is installed, with its version. */
export async function firstInstalled(
  packages: PackageManager,
  names: readonly string[],
): Promise<{ readonly name: string; readonly version: string } | null> {
  for (const name of names) {
    const version = await packages.installedVersion(name);
    if (version !== null) return { name, version };
  }
  return null;
}

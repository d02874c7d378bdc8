/**
 * Reads what `unattended-upgrade --dry-run -v` prints. Its stable lines are
 * "Packages that will be upgraded: a b c" and, per package file it would
 * install, the dpkg command naming the .deb; apt stores downloads as
 * name_version_arch.deb with the epoch's ":" written "%3a".
 */
export interface UnattendedPlan {
  readonly packages: readonly string[];
  /** Version each package would be upgraded to, where a .deb named it. */
  readonly versions: ReadonlyMap<string, string>;
}

const UPGRADE_LINE = /^Packages that will be upgraded: (.*)$/gm;
const DEB_FILE = /\/([a-z0-9][a-z0-9+.-]*)_([^_/\s]+)_([a-z0-9-]+)\.deb(?=\s|$)/g;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]*(:[a-z0-9-]+)?$/;

export function parseUnattendedOutput(output: string): UnattendedPlan {
  const packages = new Set<string>();
  for (const match of output.matchAll(UPGRADE_LINE)) {
    for (const name of (match[1] as string).trim().split(/\s+/)) {
      if (PACKAGE_NAME.test(name)) packages.add(name);
    }
  }
  const versions = new Map<string, string>();
  for (const match of output.matchAll(DEB_FILE)) {
    versions.set(match[1] as string, decodeURIComponent(match[2] as string));
  }
  return { packages: [...packages], versions };
}

/** unattended-upgrade gives up at once when dpkg is locked; the caller waits and tries again. */
export function isLockFailure(output: string): boolean {
  return /Lock could not be acquired|Cache lock can not be acquired|Could not get lock/i.test(output);
}

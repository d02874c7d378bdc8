import { messageOf } from '../../core/errors.ts';
import type { Host } from '../../host/host.ts';
import { type OsFacts, packageManagerOrNull } from '../../os/facts.ts';
import { OLDEST_MODELLED, SYSTEMD_VERSIONS } from './readers.ts';

/**
 * Which systemd will read /etc/ecs/ecs.config: the version of the systemd package
 * in the package database of the managed system (this machine, or the image
 * root given with --root, which boots with its own systemd). Unknown when there
 * is none: then the file must read alike to every modelled version.
 */
export interface SystemdVersion {
  /** The major version, or null when unknown. */
  readonly version: number | null;
  /** Where it came from, for messages. */
  readonly evidence: string;
}

export async function detectSystemdVersion(host: Host, os: OsFacts): Promise<SystemdVersion> {
  const packages = packageManagerOrNull(os.support, host);
  if (packages === null) return { version: null, evidence: 'unknown (no package manager for this system)' };
  try {
    const installed = await packages.installedVersion('systemd');
    const major = installed === null ? null : /^(?:\d+:)?(\d+)/.exec(installed)?.[1];
    if (installed === null || major === undefined || major === null)
      return { version: null, evidence: 'unknown (no systemd package installed)' };
    return { version: Number(major), evidence: `systemd package ${installed}` };
  } catch (error) {
    return { version: null, evidence: `unknown (${messageOf(error)})` };
  }
}

/** The versions whose reading must agree: the detected one, or every modelled one when it is unknown or older. */
export function versionsToCheck(detected: SystemdVersion): readonly number[] {
  const { version } = detected;
  return version !== null && version >= OLDEST_MODELLED ? [version] : SYSTEMD_VERSIONS.map((entry) => entry.version);
}

/** "systemd 252" or "systemd 245 to 255", as messages name the readers. */
export function systemdLabel(versions: readonly number[]): string {
  return versions.length === 1 ? `systemd ${versions[0]}` : `systemd ${versions[0]} to ${versions.at(-1)}`;
}

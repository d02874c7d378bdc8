import { readTextIfExists, type Host } from '../../../host/host.ts';
import { packageManagerFor } from '../../../pkg/package-manager.ts';
import { describe } from '../../../pkg/transaction.ts';
import { execUpdate, runUpdateCommand, type UpdateCommand } from '../command.ts';
import type { Prerequisite } from '../prerequisites.ts';
import type { Advisory, PendingUpdates, SecurityUpdate, UpdateManager } from '../types.ts';
import { compareReleases, newestOfferedRelease, parseCheckUpdate, parseUpdateinfoList, RELEASE_VERSION } from './parse.ts';

/**
 * Amazon Linux 2023: `dnf --security` against the release the host is pinned
 * to (releases are immutable, so new advisories come with newer releases).
 * A newer release `dnf check-release-update` offers is reported and, only
 * with AL2023_RELEASE_UPGRADE=yes, used for the security updates.
 */
export interface DnfOptions {
  /** Take security updates from a newer release when one is offered. */
  readonly releaseUpgrade: boolean;
  /** Amazon Linux only: elsewhere `check-release-update` does not exist. */
  readonly amazonLinux: boolean;
}

const RELEASEVER_OVERRIDE = '/etc/dnf/vars/releasever';
/** `dnf needs-restarting` is a plugin: without it the job still applies updates, but cannot tell when to reboot. */
const NEEDS_RESTARTING: Prerequisite = {
  tool: 'dnf needs-restarting',
  package: 'dnf-plugins-core',
  without: 'whether an update needs a reboot cannot be told',
  required: false,
};

/** check-update: 100 means updates are available. */
const CHECK_UPDATE_OK = [0, 100];

export function dnfUpdates(host: Host, options: DnfOptions): UpdateManager {
  let chosen: Promise<Release> | null = null;
  const release = () => (chosen ??= chooseRelease(host, options));
  const withRelease = (args: readonly string[], releasever: string | null, interruptible = true): UpdateCommand => ({
    file: 'dnf',
    args: [...args, ...(releasever === null ? [] : [`--releasever=${releasever}`])],
    interruptible,
  });
  const upgrade = (releasever: string | null) => withRelease(['-y', 'upgrade', '--security'], releasever, false);
  const packages = packageManagerFor('dnf', host);

  return {
    name: 'dnf',
    prerequisites: [NEEDS_RESTARTING],
    installedVersion: (name) => packages.installedVersion(name),
    async check(): Promise<PendingUpdates> {
      const { releasever, newer, notes } = await release();
      const listed = await runUpdateCommand(host, { ...withRelease(['-q', 'check-update', '--security'], releasever), okExitCodes: CHECK_UPDATE_OK });
      const advisories = parseUpdateinfoList((await runUpdateCommand(host, withRelease(['-q', 'updateinfo', 'list', '--security'], releasever))).stdout);
      const updates = await Promise.all(
        parseCheckUpdate(listed.stdout).map(async (update): Promise<SecurityUpdate> => ({
          package: update.name,
          from: await packages.installedVersion(update.name),
          to: update.version,
          advisories: [...new Set(advisories.filter((advisory) => advisory.packageName === update.name).map((advisory) => advisory.id))],
        })),
      );
      return { updates, advisories: uniqueAdvisories(advisories), newerRelease: newer, notes };
    },
    async apply() {
      await runUpdateCommand(host, upgrade((await release()).releasever));
      return { rebootSignalled: false };
    },
    describeApply: async () => [describe(upgrade((await release()).releasever))],
    async rebootRequired() {
      const result = await execUpdate(host, { file: 'dnf', args: ['needs-restarting', '-r'], interruptible: true });
      // Without dnf-plugins-core the command is missing; dnf then exits 1 as well.
      if (/No such command/i.test(result.stdout + result.stderr)) return null;
      if (result.exitCode === 0 || result.exitCode === 1) return result.exitCode === 1;
      return null;
    },
  };
}

interface Release {
  /** What --releasever is set to, or null when the host names none (dnf then decides). */
  readonly releasever: string | null;
  readonly newer: string | null;
  readonly notes: readonly string[];
}

async function chooseRelease(host: Host, options: DnfOptions): Promise<Release> {
  const pinned = await pinnedRelease(host);
  const newer = options.amazonLinux ? await offeredRelease(host, pinned) : null;
  if (newer === null) return { releasever: pinned, newer, notes: pinned ? [`release pinned to ${pinned}`] : [] };
  if (options.releaseUpgrade) return { releasever: newer, newer, notes: [`security updates taken from the newer release ${newer} (AL2023_RELEASE_UPGRADE=yes)`] };
  return {
    releasever: pinned,
    newer,
    notes: [`release ${newer} is available; the host stays on ${pinned ?? 'its release'} (set AL2023_RELEASE_UPGRADE=yes, or run "dnf upgrade --releasever=${newer}")`],
  };
}

/** The operator's override in /etc/dnf/vars/releasever wins over the installed system-release, as for dnf itself. */
async function pinnedRelease(host: Host): Promise<string | null> {
  const override = (await readTextIfExists(host, RELEASEVER_OVERRIDE))?.trim();
  if (override === 'latest' || (override !== undefined && RELEASE_VERSION.test(override))) return override;
  const version = await host.exec('rpm', ['-q', '--queryformat', '%{VERSION}', '--', 'system-release'], { timeoutMs: 60_000 });
  const installed = version.stdout.trim();
  return version.exitCode === 0 && RELEASE_VERSION.test(installed) ? installed : null;
}

async function offeredRelease(host: Host, pinned: string | null): Promise<string | null> {
  const result = await execUpdate(host, { file: 'dnf', args: ['check-release-update'], interruptible: true });
  const newest = newestOfferedRelease(result.stdout + result.stderr);
  if (newest === null || pinned === 'latest') return null;
  return pinned === null || compareReleases(newest, pinned) > 0 ? newest : null;
}

function uniqueAdvisories(advisories: readonly { id: string; severity: string | null }[]): Advisory[] {
  const byId = new Map<string, Advisory>();
  for (const { id, severity } of advisories) byId.set(id, { id, severity, summary: null });
  return [...byId.values()];
}

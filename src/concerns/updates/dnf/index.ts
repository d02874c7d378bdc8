import { type Command, commandLine } from '../../../core/command.ts';
import { type Logger, silentLogger } from '../../../core/logger.ts';
import { readTextIfExists, type Host } from '../../../host/host.ts';
import { packageManagerFor } from '../../../pkg/package-manager.ts';
import { execPackageCommand, runPackageCommand } from '../../../pkg/transaction.ts';
import { updateCommand } from '../command.ts';
import type { Prerequisite } from '../prerequisites.ts';
import type { Advisory, PendingUpdates, SecurityUpdate, UpdateManager } from '../types.ts';
import {
  compareReleases,
  newestOfferedRelease,
  parseCheckUpdate,
  parseUpdateinfoList,
  RELEASE_VERSION,
} from './parse.ts';

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

/** logger: where retries of a failed download are reported. */
export function dnfUpdates(host: Host, options: DnfOptions, logger: Logger = silentLogger): UpdateManager {
  let chosen: Promise<Release> | null = null;
  const release = () => (chosen ??= chooseRelease(host, options, logger));
  const withRelease = (args: readonly string[], releasever: string | null, interruptible = true): Command => {
    const release = releasever === null ? [] : [`--releasever=${releasever}`];
    return updateCommand({ file: 'dnf', args: [...args, ...release], interruptible });
  };
  const run = (command: Command) => runPackageCommand(host, command, logger);
  const upgrade = (releasever: string | null) => withRelease(['-y', 'upgrade', '--security'], releasever, false);
  const packages = packageManagerFor('dnf', host);

  return {
    name: 'dnf',
    prerequisites: [NEEDS_RESTARTING],
    installedVersion: (name) => packages.installedVersion(name),
    async check(): Promise<PendingUpdates> {
      const { releasever, newer, notes } = await release();
      const checkUpdate = withRelease(['-q', 'check-update', '--security'], releasever);
      const listed = await run({ ...checkUpdate, okExitCodes: CHECK_UPDATE_OK });
      const updateinfo = await run(withRelease(['-q', 'updateinfo', 'list', '--security'], releasever));
      const advisories = parseUpdateinfoList(updateinfo.stdout);
      const updates = await Promise.all(
        parseCheckUpdate(listed.stdout).map(async (update): Promise<SecurityUpdate> => ({
          package: update.name,
          from: await packages.installedVersion(update.name),
          to: update.version,
          advisories: [
            ...new Set(
              advisories.filter((advisory) => advisory.packageName === update.name).map((advisory) => advisory.id),
            ),
          ],
        })),
      );
      return { updates, advisories: uniqueAdvisories(advisories), newerRelease: newer, notes };
    },
    async apply() {
      await run(upgrade((await release()).releasever));
      return { rebootSignalled: false };
    },
    describeApply: async () => [commandLine(upgrade((await release()).releasever))],
    async rebootRequired() {
      const needsRestarting = updateCommand({ file: 'dnf', args: ['needs-restarting', '-r'], interruptible: true });
      const result = await execPackageCommand(host, needsRestarting, logger);
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

async function chooseRelease(host: Host, options: DnfOptions, logger: Logger): Promise<Release> {
  const pinned = await pinnedRelease(host);
  const newer = options.amazonLinux ? await offeredRelease(host, pinned, logger) : null;
  if (newer === null) return { releasever: pinned, newer, notes: pinned ? [`release pinned to ${pinned}`] : [] };
  if (options.releaseUpgrade)
    return {
      releasever: newer,
      newer,
      notes: [`security updates taken from the newer release ${newer} (AL2023_RELEASE_UPGRADE=yes)`],
    };
  return {
    releasever: pinned,
    newer,
    notes: [
      `release ${newer} is available; the host stays on ${pinned ?? 'its release'} (set ` +
        `AL2023_RELEASE_UPGRADE=yes, or run "dnf upgrade --releasever=${newer}")`,
    ],
  };
}

/** The operator's override in /etc/dnf/vars/releasever wins over the installed system-release, as for dnf itself. */
async function pinnedRelease(host: Host): Promise<string | null> {
  const override = (await readTextIfExists(host, RELEASEVER_OVERRIDE))?.trim();
  if (override === 'latest' || (override !== undefined && RELEASE_VERSION.test(override))) return override;
  const version = await host.exec('rpm', ['-q', '--queryformat', '%{VERSION}', '--', 'system-release'], {
    timeoutMs: 60_000,
  });
  const installed = version.stdout.trim();
  return version.exitCode === 0 && RELEASE_VERSION.test(installed) ? installed : null;
}

async function offeredRelease(host: Host, pinned: string | null, logger: Logger): Promise<string | null> {
  const command = updateCommand({ file: 'dnf', args: ['check-release-update'], interruptible: true });
  const result = await execPackageCommand(host, command, logger);
  const newest = newestOfferedRelease(result.stdout + result.stderr);
  if (newest === null || pinned === 'latest') return null;
  return pinned === null || compareReleases(newest, pinned) > 0 ? newest : null;
}

function uniqueAdvisories(advisories: readonly { id: string; severity: string | null }[]): Advisory[] {
  const byId = new Map<string, Advisory>();
  for (const { id, severity } of advisories) byId.set(id, { id, severity, summary: null });
  return [...byId.values()];
}

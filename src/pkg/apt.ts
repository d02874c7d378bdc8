import type { Command } from '../core/command.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import { execChecked, type Host } from '../host/host.ts';
import { type DpkgPackage, parseDpkgStatus } from './dpkg-status.ts';
import type { PackageManager } from './package-manager.ts';
import { LOCK_TIMEOUT_SECONDS, runPackageCommand } from './transaction.ts';

const DPKG_STATUS = '/var/lib/dpkg/status';
const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
const LOCK_OPTION = ['-o', `DPkg::Lock::Timeout=${LOCK_TIMEOUT_SECONDS}`];

const UPDATE: Command = { file: 'apt-get', args: [...LOCK_OPTION, 'update'], env: APT_ENV, interruptible: true };

/** logger: where retries of a failed download are reported (a caller that only asks what is installed needs none). */
export function aptPackageManager(host: Host, logger: Logger = silentLogger): PackageManager {
  const installed = dpkgDatabase(host);
  const run = (commands: readonly Command[]) =>
    withServicesHeld(host, async () => {
      for (const command of commands) await runPackageCommand(host, command, logger);
    });
  const installCommands = (packages: readonly string[]): Command[] => [
    UPDATE,
    {
      file: 'apt-get',
      args: [
        ...LOCK_OPTION,
        '-o',
        'Dpkg::Options::=--force-confold',
        'install',
        '-y',
        '--no-install-recommends',
        '--',
        ...packages,
      ],
      env: APT_ENV,
    },
  ];
  return {
    name: 'apt',
    async installedVersion(name) {
      const entry = (await installed()).get(name);
      // A copy: the parsed version is a slice of the whole file (megabytes), which the daemon's facts would keep alive.
      return entry?.installed ? Buffer.from(entry.version).toString() : null;
    },
    async availableVersion(name) {
      // Images often ship without package lists, and a repository just added has none yet.
      await runPackageCommand(host, UPDATE, logger);
      const query = { timeoutMs: 60_000, interruptible: true };
      const policy = await execChecked(host, 'apt-cache', ['policy', '--', name], query);
      return policyCandidate(policy.stdout);
    },
    installCommands,
    run,
    install: (packages) => run(installCommands(packages)),
  };
}

/**
 * dpkg's database, parsed again only when the file changed (size or mtime):
 * detecting facts asks for several packages in a row, and the file is megabytes.
 */
function dpkgDatabase(host: Host): () => Promise<Map<string, DpkgPackage>> {
  let cached: { readonly stamp: string; readonly packages: Map<string, DpkgPackage> } | null = null;
  return async () => {
    const info = await host.stat(DPKG_STATUS);
    if (info === null) return new Map();
    const stamp = `${info.size}:${info.mtimeMs}`;
    if (cached?.stamp !== stamp) cached = { stamp, packages: parseDpkgStatus(await host.readText(DPKG_STATUS)) };
    return cached.packages;
  };
}

/**
 * apt-cache policy prints nothing for a name no list has, and "Candidate: (none)" for one nothing installable provides.
 */
export function policyCandidate(policy: string): string | null {
  const candidate = /^\s*Candidate:\s*(\S+)/m.exec(policy)?.[1];
  return candidate === undefined || candidate === '(none)' ? null : candidate;
}

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * In an image root, maintainer scripts must not start daemons (on the build
 * machine!): policy-rc.d exiting 101 tells invoke-rc.d and deb-systemd-invoke
 * to leave services alone. An operator's own policy-rc.d is left as it is.
 */
async function withServicesHeld(host: Host, install: () => Promise<void>): Promise<void> {
  if (host.root === '/' || (await host.lstat(POLICY_RC)) !== null) return install();
  await host.writeFileAtomic(
    POLICY_RC,
    '#!/bin/sh\n# ecs-host-agent: no service starts while an image is built\nexit 101\n',
    { mode: 0o755 },
  );
  try {
    await install();
  } finally {
    await host.rm(POLICY_RC);
  }
}

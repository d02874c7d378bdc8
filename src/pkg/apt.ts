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
      await withServicesHeld(host, async () => {
        for (const command of commands(packages)) await runPackageCommand(host, command);
      });
    },
    describeInstall: (packages) => commands(packages).map(describe),
  };
}

const POLICY_RC = '/usr/sbin/policy-rc.d';

/**
 * In an image root, maintainer scripts must not start daemons (on the build
 * machine!): policy-rc.d exiting 101 tells invoke-rc.d and deb-systemd-invoke
 * to leave services alone. An operator's own policy-rc.d is left as it is.
 */
async function withServicesHeld(host: Host, install: () => Promise<void>): Promise<void> {
  if (host.root === '/' || (await host.lstat(POLICY_RC)) !== null) return install();
  await host.writeFileAtomic(POLICY_RC, '#!/bin/sh\n# ecs-host-agent: no service starts while an image is built\nexit 101\n', { mode: 0o755 });
  try {
    await install();
  } finally {
    await host.rm(POLICY_RC);
  }
}

import { type Command, commandFailed, commandLine, isOk } from '../../../core/command.ts';
import { AgentError } from '../../../core/errors.ts';
import { type Logger, silentLogger } from '../../../core/logger.ts';
import { PATHS } from '../../../core/paths.ts';
import type { Host } from '../../../host/host.ts';
import { aptPackageManager } from '../../../pkg/apt.ts';
import { execPackageCommand, LOCK_TIMEOUT_SECONDS, runPackageCommand } from '../../../pkg/transaction.ts';
import { updateCommand } from '../command.ts';
import type { Prerequisite } from '../prerequisites.ts';
import type { PendingUpdates, SecurityUpdate, UpdateManager } from '../types.ts';
import { isLockFailure, parseUnattendedOutput } from './parse.ts';

/**
 * Ubuntu and Debian: unattended-upgrade, restricted to the security origins.
 * The operator's apt configuration (proxies, blacklists, pins) still applies:
 * APT_CONFIG names a file that apt reads first and, set as Dir::Etc::main,
 * once more after apt.conf.d, so its #clear drops whatever origins the
 * distribution's 50unattended-upgrades allows (Debian's includes point
 * releases) and leaves only the security ones. Nothing in /etc is changed.
 */
export const UNATTENDED_CONFIG = `${PATHS.agentState}/unattended-upgrade-security.conf`;
const MAIN_APT_CONF = '/etc/apt/apt.conf';
export const REBOOT_REQUIRED_FILE = '/var/run/reboot-required';

const SECURITY_ORIGINS: Readonly<Record<string, readonly string[]>> = {
  debian: ['origin=Debian,codename=${distro_codename}-security,label=Debian-Security'],
  ubuntu: [
    'origin=Ubuntu,archive=${distro_codename}-security',
    'origin=UbuntuESMApps,archive=${distro_codename}-apps-security',
    'origin=UbuntuESM,archive=${distro_codename}-infra-security',
  ],
};

const LOCK_RETRY_MS = 10_000;

/**
 * unattended-upgrade comes in its own package, absent from minimal images. Installed for the agent's own runs
 * in UPDATE_WINDOW: debconf is told first not to turn on apt's daily unattended upgrades as well (Debian's
 * package would write 20auto-upgrades), which would change packages outside the window, with no drain.
 */
export const UNATTENDED_UPGRADES: Prerequisite = {
  tool: 'unattended-upgrade',
  package: 'unattended-upgrades',
  without: 'security updates cannot be listed or applied',
  required: true,
  debconf: 'unattended-upgrades unattended-upgrades/enable_auto_updates boolean false\n',
};

/** logger: where retries of a failed download are reported. */
export function aptUpdates(host: Host, distributionId: string, logger: Logger = silentLogger): UpdateManager {
  const origins = SECURITY_ORIGINS[distributionId];
  if (!origins)
    throw new AgentError(
      `security origins of ${distributionId} are unknown; known: ${Object.keys(SECURITY_ORIGINS).join(', ')}`,
    );
  const env = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a', APT_CONFIG: UNATTENDED_CONFIG };
  const lock = ['-o', `DPkg::Lock::Timeout=${LOCK_TIMEOUT_SECONDS}`];
  const refresh = updateCommand({ file: 'apt-get', args: [...lock, 'update'], env, interruptible: true });
  const unattended = (dryRun: boolean): Command =>
    updateCommand({
      file: 'unattended-upgrade',
      args: dryRun ? ['--dry-run', '-v'] : ['-v'],
      env,
      interruptible: dryRun,
    });

  const run = async (dryRun: boolean): Promise<string> => {
    await host.mkdir(PATHS.agentState);
    await host.writeFileAtomic(UNATTENDED_CONFIG, await unattendedConfig(host, origins), { mode: 0o644 });
    await runPackageCommand(host, refresh, logger);
    return runWaitingForLock(host, unattended(dryRun), logger);
  };

  // "libssl3:amd64" is listed with its architecture; dpkg's status names the package.
  const packages = aptPackageManager(host);
  const installedVersion = (name: string) => packages.installedVersion(name.replace(/:.*$/, ''));

  return {
    name: 'apt',
    prerequisites: [UNATTENDED_UPGRADES],
    installedVersion,
    async check(): Promise<PendingUpdates> {
      const plan = parseUnattendedOutput(await run(true));
      const updates = await Promise.all(
        plan.packages.map(async (name): Promise<SecurityUpdate> => ({
          package: name,
          from: await installedVersion(name),
          to: plan.versions.get(name) ?? null,
          advisories: [],
        })),
      );
      return { updates, advisories: [], newerRelease: null, notes: [] };
    },
    async apply() {
      await run(false);
      return { rebootSignalled: false };
    },
    describeApply: async () => [
      `write ${UNATTENDED_CONFIG} (security origins only: ${origins.join('; ')})`,
      commandLine(refresh),
      commandLine(unattended(false)),
    ],
    async rebootRequired() {
      return (await host.stat(REBOOT_REQUIRED_FILE)) !== null;
    },
  };
}

async function unattendedConfig(host: Host, origins: readonly string[]): Promise<string> {
  const operatorMain = (await host.stat(MAIN_APT_CONF)) === null ? [] : [`#include "${MAIN_APT_CONF}";`];
  return [
    '// Written by ecs-host-agent for its own unattended-upgrade runs (APT_CONFIG); nothing else reads it.',
    '// Read first and, as Dir::Etc::main, again after apt.conf.d: security origins only, no automatic reboot.',
    ...operatorMain,
    `Dir::Etc::main "${UNATTENDED_CONFIG}";`,
    '#clear Unattended-Upgrade::Origins-Pattern;',
    '#clear Unattended-Upgrade::Allowed-Origins;',
    'Unattended-Upgrade::Origins-Pattern {',
    ...origins.map((origin) => `  "${origin}";`),
    '};',
    '// The agent reboots itself, after draining the container instance, inside the window.',
    'Unattended-Upgrade::Automatic-Reboot "false";',
    '',
  ].join('\n');
}

/** unattended-upgrade does not wait for dpkg's lock; waits here, bounded like apt-get's own lock timeout. */
async function runWaitingForLock(host: Host, command: Command, logger: Logger): Promise<string> {
  const giveUp = host.now().getTime() + LOCK_TIMEOUT_SECONDS * 1000;
  for (;;) {
    const result = await execPackageCommand(host, command, logger);
    const output = `${result.stdout}\n${result.stderr}`;
    if (isOk(command, result)) return output;
    if (!isLockFailure(output) || host.now().getTime() >= giveUp) throw commandFailed(command, result);
    await host.sleep(LOCK_RETRY_MS);
  }
}

import type { Command } from '../core/command.ts';
import { CommandError } from '../core/errors.ts';
import { type Logger, silentLogger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import type { PackageManagerName } from '../os/support.ts';
import type { PackageManager } from './package-manager.ts';
import { LOCK_TIMEOUT_SECONDS, runPackageCommand } from './transaction.ts';

type RpmManager = Exclude<PackageManagerName, 'apt'>;

/** zypper exit statuses 100-106 report information (updates, reboot needed), not failure. */
const ZYPPER_OK = [0, 100, 101, 102, 103, 106];

const INSTALL: Readonly<Record<RpmManager, (packages: readonly string[]) => Command>> = {
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

/** How each manager is asked what its repositories offer, and how its answer is read. */
interface AvailabilityQuery {
  readonly command: (name: string) => Command;
  readonly version: (stdout: string, name: string) => string | null;
  /** A failure exit whose output says only that nothing matched. */
  readonly nothingFound?: RegExp;
}

const AVAILABLE: Readonly<Record<RpmManager, AvailabilityQuery>> = {
  // repoquery leaves out what only the rpm database has; one line per result, nothing when none.
  dnf: {
    command: (name) => ({
      file: 'dnf',
      args: ['repoquery', '--quiet', '--latest-limit', '1', '--queryformat', '%{version}-%{release}\\n', '--', name],
    }),
    version: (stdout) =>
      stdout
        .split('\n')
        .find((line) => line.trim() !== '')
        ?.trim() ?? null,
  },
  // yum 3 has no repoquery; `list available` exits 1 when nothing matches, and when a repository fails.
  yum: {
    command: (name) => ({ file: 'yum', args: ['--quiet', 'list', 'available', '--', name] }),
    version: yumListedVersion,
    nothingFound: /No matching Packages to list/,
  },
  // 104: nothing found. The rpm database shows up as the repository "(System Packages)".
  zypper: {
    command: (name) => ({
      file: 'zypper',
      args: ['--non-interactive', '--xmlout', 'search', '--match-exact', '--type', 'package', '--details', '--', name],
      env: { ZYPP_LOCK_TIMEOUT: String(LOCK_TIMEOUT_SECONDS) },
      okExitCodes: [0, 104],
    }),
    version: zypperSearchVersion,
  },
};

/** dnf, yum and zypper systems share the rpm database; rpm -q answers for all three. */
export function rpmPackageManager(name: RpmManager, host: Host, logger: Logger = silentLogger): PackageManager {
  const run = async (commands: readonly Command[]) => {
    for (const command of commands) await runPackageCommand(host, command, logger);
  };
  return {
    name,
    async installedVersion(packageName) {
      const args = ['-q', '--queryformat', '%{VERSION}-%{RELEASE}', '--', packageName];
      const result = await host.exec('rpm', args, { timeoutMs: 60_000 });
      if (result.exitCode === 0) return result.stdout.trim();
      if (/is not installed/.test(result.stdout + result.stderr)) return null;
      throw new CommandError(['rpm', ...args], result.exitCode, result.stderr);
    },
    async availableVersion(packageName) {
      const query = AVAILABLE[name];
      const command = query.command(packageName);
      const options = { timeoutMs: 10 * 60_000, interruptible: true, ...(command.env ? { env: command.env } : {}) };
      const result = await host.exec(command.file, command.args, options);
      if ((command.okExitCodes ?? [0]).includes(result.exitCode)) return query.version(result.stdout, packageName);
      if (query.nothingFound?.test(result.stdout + result.stderr)) return null;
      throw new CommandError([command.file, ...command.args], result.exitCode, result.stderr || result.stdout);
    },
    installCommands: (packages) => [INSTALL[name](packages)],
    run,
    install: (packages) => run([INSTALL[name](packages)]),
  };
}

/**
 * `yum list` prints "name.arch  version  repository" columns and wraps a long
 * name onto a line of its own, so the words after the heading are read in threes.
 */
export function yumListedVersion(stdout: string, name: string): string | null {
  const listed = stdout.split(/^Available Packages\s*$/m)[1];
  const words = listed?.trim().split(/\s+/) ?? [];
  for (let i = 0; i + 1 < words.length; i += 3) {
    if (words[i]?.startsWith(`${name}.`)) return words[i + 1] ?? null;
  }
  return null;
}

/** The edition of the first solvable of that name in a repository, from `zypper --xmlout search --details`. */
export function zypperSearchVersion(xml: string, name: string): string | null {
  for (const tag of xml.match(/<solvable\s[^>]*>/g) ?? []) {
    const attributes = new Map(
      [...tag.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1] as string, match[2] as string]),
    );
    if (attributes.get('name') === name && attributes.get('repository') !== '(System Packages)')
      return attributes.get('edition') ?? null;
  }
  return null;
}

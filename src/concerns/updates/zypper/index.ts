import { type Command, commandFailed, commandLine, isOk } from '../../../core/command.ts';
import { AgentError } from '../../../core/errors.ts';
import { type Logger, silentLogger } from '../../../core/logger.ts';
import type { ExecResult, Host } from '../../../host/host.ts';
import { packageManagerFor } from '../../../pkg/package-manager.ts';
import { execPackageCommand, LOCK_TIMEOUT_SECONDS } from '../../../pkg/transaction.ts';
import { updateCommand } from '../command.ts';
import type { PendingUpdates, UpdateManager } from '../types.ts';
import { parsePatchDryRun, parsePatchList } from './parse.ts';

/**
 * SLES and openSUSE Leap: patches of category security. zypper's exit
 * statuses are mapped, not guessed: 100-103 and 106 are success with
 * information (updates needed, security updates needed, reboot needed, zypper
 * itself was updated and must run again, some repositories skipped); 7 means
 * another process holds the zypp lock even after ZYPP_LOCK_TIMEOUT.
 */
export const ZYPPER_EXIT = {
  ok: 0,
  locked: 7,
  updatesNeeded: 100,
  securityUpdatesNeeded: 101,
  rebootNeeded: 102,
  restartNeeded: 103,
  reposSkipped: 106,
} as const;

const INFORMATIONAL = [
  ZYPPER_EXIT.ok,
  ZYPPER_EXIT.updatesNeeded,
  ZYPPER_EXIT.securityUpdatesNeeded,
  ZYPPER_EXIT.rebootNeeded,
  ZYPPER_EXIT.restartNeeded,
  ZYPPER_EXIT.reposSkipped,
];
/** A patch run that updated the package stack exits 103: run again, a bounded number of times. */
const MAX_PATCH_RUNS = 5;

export class ZyppLocked extends AgentError {}

/** logger: where retries of a failed download are reported. */
export function zypperUpdates(host: Host, logger: Logger = silentLogger): UpdateManager {
  const env = { ZYPP_LOCK_TIMEOUT: String(LOCK_TIMEOUT_SECONDS) };
  const zypper = (args: readonly string[], interruptible = true): Command =>
    updateCommand({
      file: 'zypper',
      args: ['--non-interactive', ...args],
      env,
      okExitCodes: INFORMATIONAL,
      interruptible,
    });
  const patch = (dryRun: boolean) => {
    const args = ['patch', '--category', 'security', '--with-interactive', '--auto-agree-with-licenses'];
    return zypper(dryRun ? ['--xmlout', ...args, '--dry-run'] : args, dryRun);
  };
  const run = async (command: Command): Promise<ExecResult> => {
    const result = await execPackageCommand(host, command, logger);
    if (result.exitCode === ZYPPER_EXIT.locked) {
      throw new ZyppLocked(
        `zypper: another process holds the zypp lock (exit 7) after waiting ` +
          `${LOCK_TIMEOUT_SECONDS}s; try again later`,
      );
    }
    if (!isOk(command, result)) throw commandFailed(command, result);
    return result;
  };

  const packages = packageManagerFor('zypper', host);

  return {
    name: 'zypper',
    // list-patches, patch and needs-rebooting are zypper's own commands.
    prerequisites: [],
    installedVersion: (name) => packages.installedVersion(name),
    async check(): Promise<PendingUpdates> {
      const advisories = parsePatchList(
        (await run(zypper(['--xmlout', 'list-patches', '--category', 'security']))).stdout,
      );
      const updates = advisories.length === 0 ? [] : parsePatchDryRun((await run(patch(true))).stdout);
      return { updates, advisories, newerRelease: null, notes: [] };
    },
    async apply() {
      let rebootSignalled = false;
      for (let runs = 1; ; runs++) {
        const result = await run(patch(false));
        rebootSignalled ||= result.exitCode === ZYPPER_EXIT.rebootNeeded;
        if (result.exitCode !== ZYPPER_EXIT.restartNeeded) return { rebootSignalled };
        if (runs === MAX_PATCH_RUNS)
          throw new AgentError(`zypper patch still asks to be run again (exit 103) after ${runs} runs`);
      }
    },
    describeApply: async () => [`${commandLine(patch(false))}   (again while it exits 103)`],
    async rebootRequired() {
      const result = await execPackageCommand(host, zypper(['needs-rebooting']), logger);
      if (result.exitCode === ZYPPER_EXIT.rebootNeeded) return true;
      // Older zypper lacks the command (exit 1, "Unknown command").
      return result.exitCode === ZYPPER_EXIT.ok ? false : null;
    },
  };
}

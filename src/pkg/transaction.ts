import { type Command, commandFailed, execOptions, isOk } from '../core/command.ts';
import type { Logger } from '../core/logger.ts';
import type { ExecResult, Host } from '../host/host.ts';

/** How long a package-manager lock held by someone else (cloud-init, unattended-upgrades) is waited for. */
export const LOCK_TIMEOUT_SECONDS = 300;
const INSTALL_TIMEOUT_MS = 30 * 60_000;
const RETRY_DELAYS_MS = [5_000, 20_000, 60_000];
const TRANSIENT = new RegExp(
  [
    'Failed to fetch',
    'Temporary failure',
    'Could not resolve',
    'Connection (timed out|refused|reset)',
    'Curl error',
    'Cannot download',
    'Download \\(curl\\) error',
    'Timeout was reached',
    'Hash Sum mismatch',
  ].join('|'),
  'i',
);

/**
 * Runs a package-manager command (an install, an update, a query of the repositories) and returns how it ended:
 * a failure the network explains is retried after 5, 20 and 60 s, each retry logged with what failed, why and
 * when the next attempt is (a converge at first boot can spend minutes here). Other exits are returned as they
 * are, for callers that read them (zypper's 7, a lock).
 */
export async function execPackageCommand(
  host: Host,
  command: Command,
  logger: Logger,
  retryDelaysMs = RETRY_DELAYS_MS,
): Promise<ExecResult> {
  for (let attempt = 0; ; attempt++) {
    const result = await host.exec(command.file, command.args, execOptions(command, INSTALL_TIMEOUT_MS));
    const cause = isOk(command, result) ? null : transientCause(result.stdout + result.stderr);
    const delay = retryDelaysMs[attempt];
    if (cause === null || delay === undefined) return result;
    const next = `attempt ${attempt + 2} of ${retryDelaysMs.length + 1} in ${delay / 1000} s`;
    logger.warn(`${[command.file, ...command.args].join(' ')} exited with ${result.exitCode} (${cause}); ${next}`);
    await host.sleep(delay);
  }
}

/** The same, for a command that must succeed: any exit outside its okExitCodes is a CommandError. */
export async function runPackageCommand(
  host: Host,
  command: Command,
  logger: Logger,
  retryDelaysMs = RETRY_DELAYS_MS,
): Promise<ExecResult> {
  const result = await execPackageCommand(host, command, logger, retryDelaysMs);
  if (!isOk(command, result)) throw commandFailed(command, result);
  return result;
}

/** The first line of the output that says the network failed, or null when none does. */
function transientCause(output: string): string | null {
  const line = output.split('\n').find((text) => TRANSIENT.test(text));
  return line === undefined ? null : line.trim().slice(0, 200);
}

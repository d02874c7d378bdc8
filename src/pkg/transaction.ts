import { CommandError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { ExecOptions, Host } from '../host/host.ts';

/** A package-manager command, run until it succeeds or fails for a reason other than the network. */
export interface PackageCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Exit statuses that mean success (zypper reports information in 100-106). */
  readonly okExitCodes?: readonly number[];
  /** Changes nothing that could be left half-done (a metadata refresh, a query): a stop may kill it. */
  readonly interruptible?: boolean;
}

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
 * Runs the command; a failure the network explains is retried after 5, 20 and 60 s, each retry logged with
 * what failed, why and when the next attempt is (a converge at first boot can spend minutes here).
 */
export async function runPackageCommand(
  host: Host,
  command: PackageCommand,
  logger: Logger,
  retryDelaysMs = RETRY_DELAYS_MS,
): Promise<void> {
  const options: ExecOptions = {
    timeoutMs: INSTALL_TIMEOUT_MS,
    ...(command.env ? { env: command.env } : {}),
    ...(command.interruptible ? { interruptible: true } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    const result = await host.exec(command.file, command.args, options);
    if ((command.okExitCodes ?? [0]).includes(result.exitCode)) return;
    const cause = transientCause(result.stdout + result.stderr);
    const delay = retryDelaysMs[attempt];
    if (cause === null || delay === undefined) {
      throw new CommandError([command.file, ...command.args], result.exitCode, result.stderr || result.stdout);
    }
    const next = `attempt ${attempt + 2} of ${retryDelaysMs.length + 1} in ${delay / 1000} s`;
    logger.warn(`${[command.file, ...command.args].join(' ')} exited with ${result.exitCode} (${cause}); ${next}`);
    await host.sleep(delay);
  }
}

/** The first line of the output that says the network failed, or null when none does. */
function transientCause(output: string): string | null {
  const line = output.split('\n').find((text) => TRANSIENT.test(text));
  return line === undefined ? null : line.trim().slice(0, 200);
}

export function describe(command: PackageCommand): string {
  const env = Object.entries(command.env ?? {})
    .map(([key, value]) => `${key}=${value} `)
    .join('');
  return `${env}${[command.file, ...command.args].join(' ')}`;
}

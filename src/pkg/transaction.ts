import { CommandError } from '../core/errors.ts';
import type { ExecOptions, Host } from '../host/host.ts';

/** A package-manager command, run until it succeeds or fails for a reason other than the network. */
export interface PackageCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Exit statuses that mean success (zypper reports information in 100-106). */
  readonly okExitCodes?: readonly number[];
}

/** How long a package-manager lock held by someone else (cloud-init, unattended-upgrades) is waited for. */
export const LOCK_TIMEOUT_SECONDS = 300;
const INSTALL_TIMEOUT_MS = 30 * 60_000;
const RETRY_DELAYS_MS = [5_000, 20_000, 60_000];
const TRANSIENT = /Failed to fetch|Temporary failure|Could not resolve|Connection (timed out|refused|reset)|Curl error|Cannot download|Download \(curl\) error|Timeout was reached|Hash Sum mismatch/i;

export async function runPackageCommand(host: Host, command: PackageCommand, retryDelaysMs = RETRY_DELAYS_MS): Promise<void> {
  const options: ExecOptions = { timeoutMs: INSTALL_TIMEOUT_MS, ...(command.env ? { env: command.env } : {}) };
  for (let attempt = 0; ; attempt++) {
    const result = await host.exec(command.file, command.args, options);
    if ((command.okExitCodes ?? [0]).includes(result.exitCode)) return;
    const transient = TRANSIENT.test(result.stdout + result.stderr);
    const delay = retryDelaysMs[attempt];
    if (!transient || delay === undefined) throw new CommandError([command.file, ...command.args], result.exitCode, result.stderr || result.stdout);
    await host.sleep(delay);
  }
}

export function describe(command: PackageCommand): string {
  const env = Object.entries(command.env ?? {}).map(([key, value]) => `${key}=${value} `).join('');
  return `${env}${[command.file, ...command.args].join(' ')}`;
}

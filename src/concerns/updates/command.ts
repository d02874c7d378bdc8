import { CommandError } from '../../core/errors.ts';
import type { ExecResult, Host } from '../../host/host.ts';

/** A package-manager command of the update path, with the exit statuses that mean success. */
export interface UpdateCommand {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly okExitCodes?: readonly number[];
  /** Changes nothing (a refresh, a listing, a dry run): a stop of the daemon may kill it. */
  readonly interruptible?: boolean;
}

/** Updates download and install: bounded, but generously. */
const UPDATE_TIMEOUT_MS = 60 * 60_000;

/** Runs the command and returns whatever it exited with. */
export function execUpdate(host: Host, command: UpdateCommand): Promise<ExecResult> {
  const env = command.env ? { env: command.env } : {};
  const interruptible = command.interruptible === true;
  return host.exec(command.file, command.args, { timeoutMs: UPDATE_TIMEOUT_MS, interruptible, ...env });
}

export function isOk(command: UpdateCommand, result: ExecResult): boolean {
  return (command.okExitCodes ?? [0]).includes(result.exitCode);
}

export function commandFailed(command: UpdateCommand, result: ExecResult): CommandError {
  return new CommandError([command.file, ...command.args], result.exitCode, result.stderr || result.stdout);
}

/** Runs the command; any exit status outside okExitCodes is a CommandError with the tool's own words. */
export async function runUpdateCommand(host: Host, command: UpdateCommand): Promise<ExecResult> {
  const result = await execUpdate(host, command);
  if (isOk(command, result)) return result;
  throw commandFailed(command, result);
}

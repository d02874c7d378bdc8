import type { ExecOptions, ExecResult, Host } from '../host/host.ts';
import { escapeControls, quoted } from './config/text.ts';
import { CommandError } from './errors.ts';

/**
 * A command as the agent runs it: an argument array, never a shell string, with how it is run. The same object is
 * what `plan` prints (commandLine) and what is run: package installs, updates, and every step of a concern.
 */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** Standard input (debconf answers). */
  readonly input?: string;
  /** Exit statuses that mean success (zypper reports information in 100-106). */
  readonly okExitCodes?: readonly number[];
  /** Words of a failure's stderr that mean there was nothing to do: a unit that is "not loaded" is stopped. */
  readonly alreadyDone?: string;
  /** Changes nothing that could be left half-done (a metadata refresh, a query): a stop may kill it. */
  readonly interruptible?: boolean;
  /** `local`: runs on this machine as given (mkfs, mount), never retargeted at an image root. */
  readonly target?: 'local';
  readonly timeoutMs?: number;
}

/** The command as an operator would type it: environment first, standard input as a here-string. */
export function commandLine(command: Command): string {
  const env = Object.entries(command.env ?? {})
    .map(([key, value]) => `${key}=${value} `)
    .join('');
  const input = command.input === undefined ? '' : ` <<< ${JSON.stringify(command.input)}`;
  return `${env}${[command.file, ...command.args].map(shellWord).join(' ')}${input}`;
}

/** An argument as a shell would need it: quoted when empty or holding anything but plain characters. */
function shellWord(arg: string): string {
  if (/^[A-Za-z0-9_.,:/=@%+-]+$/.test(arg)) return arg;
  // A control character would break the line: shown escaped instead.
  return escapeControls(arg) === arg ? `'${arg.replaceAll("'", "'\\''")}'` : quoted(arg);
}

/** defaultTimeoutMs: for a command that sets none (otherwise the Host's own default applies). */
export function execOptions(command: Command, defaultTimeoutMs?: number): ExecOptions {
  return {
    timeoutMs: command.timeoutMs ?? defaultTimeoutMs,
    ...(command.env ? { env: command.env } : {}),
    ...(command.input === undefined ? {} : { input: command.input }),
    ...(command.interruptible ? { interruptible: true } : {}),
    ...(command.target ? { target: command.target } : {}),
  };
}

export function isOk(command: Command, result: ExecResult): boolean {
  if ((command.okExitCodes ?? [0]).includes(result.exitCode)) return true;
  return command.alreadyDone !== undefined && result.stderr.includes(command.alreadyDone);
}

/** The error for a command that exited outside its okExitCodes, in the tool's own words. */
export function commandFailed(command: Command, result: ExecResult): CommandError {
  return new CommandError([command.file, ...command.args], result.exitCode, result.stderr || result.stdout);
}

/** Runs a command that must succeed (isOk), as given: no retries. */
export async function runCommand(host: Host, command: Command): Promise<ExecResult> {
  const result = await host.exec(command.file, command.args, execOptions(command));
  if (!isOk(command, result)) throw commandFailed(command, result);
  return result;
}

/**
 * Typed terminal errors. Each carries the process exit code the CLI uses, so
 * systemd can tell a refused host (3) or a bad config (78, RestartPreventExitStatus)
 * from a transient failure (1) that is worth a restart.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  config: 78,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class AgentError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.failed;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command line: unknown command or flag, missing operand. */
export class UsageError extends AgentError {
  override readonly exitCode = ExitCode.usage;
}

/** The host (or image root) is not one the agent will manage. */
export class RefusedError extends AgentError {
  override readonly exitCode = ExitCode.refused;
  readonly evidence: readonly string[];

  constructor(message: string, evidence: readonly string[] = []) {
    super(message);
    this.evidence = evidence;
  }
}

/** A configuration value is invalid; retrying without a fix cannot help. */
export class ConfigError extends AgentError {
  override readonly exitCode = ExitCode.config;
}

/** The daemon is stopping: what was about to start (a step, a command, a wait) does not. */
export class StoppingError extends AgentError {}

/**
 * How a command that has no exit status ended: killed by a signal (the OOM killer under the unit's MemoryMax
 * sends SIGKILL), or a reason it never ran to an end (not started, timed out, stopped).
 */
export type CommandEnd = { readonly signal: string } | { readonly reason: string };

/** A command the agent ran did not succeed. */
export class CommandError extends AgentError {
  readonly command: readonly string[];
  /** Undefined when it has none: see `signal`, or the message for why. */
  readonly exitStatus: number | undefined;
  /** The signal that killed it ("SIGKILL"), if one did. */
  readonly signal: string | undefined;
  readonly stderr: string;

  constructor(command: readonly string[], exitStatus: number | undefined, stderr: string, end?: CommandEnd) {
    const tail = outputTail(stderr);
    super(`${command.join(' ')} ${endOf(exitStatus, end)}${tail ? `: ${tail}` : ''}`);
    this.command = command;
    this.exitStatus = exitStatus;
    this.signal = end !== undefined && 'signal' in end ? end.signal : undefined;
    this.stderr = stderr;
  }
}

/**
 * The command itself is not on the machine the agent runs on, typically an image build host that lacks the
 * image family's tools (rpm on Debian): the message names the tool and, when known, the package providing it.
 */
export class MissingToolError extends CommandError {
  readonly tool: string;

  constructor(command: readonly string[], provider: string | null) {
    const tool = command[0] ?? '';
    const install = provider === null ? '' : `; on Debian and Ubuntu it comes with the package ${provider}`;
    const reason = `could not be started (ENOENT): ${tool} is not installed on this machine${install}`;
    super(command, undefined, '', { reason });
    this.tool = tool;
  }
}

const TAIL_LINES = 5;
const TAIL_LINE_LENGTH = 300;

/**
 * The last lines of a command's output, for a one-line message: blank lines dropped, and a run of lines that
 * differ only in URLs and numbers (apt's "E: Failed to fetch …" for each of a dozen packages) shown once with
 * how many more there were, so the lines that say why it failed are not pushed out; each line cut to a length.
 */
export function outputTail(output: string): string {
  const groups: Array<{ shape: string; last: string; count: number }> = [];
  for (const line of output
    .split('\n')
    .map((text) => text.trim())
    .filter((text) => text !== '')) {
    const shape = line.replace(/[a-z][a-z0-9+.-]*:\/\/\S+/gi, 'URL').replace(/\d+/g, '0');
    const previous = groups.at(-1);
    if (previous?.shape === shape) {
      previous.count++;
      previous.last = line;
    } else {
      groups.push({ shape, last: line, count: 1 });
    }
  }
  return groups
    .slice(-TAIL_LINES)
    .map(({ last, count }) => `${cut(last)}${count > 1 ? ` (and ${count - 1} more like it)` : ''}`)
    .join('\n');
}

function cut(line: string): string {
  return line.length > TAIL_LINE_LENGTH ? `${line.slice(0, TAIL_LINE_LENGTH)}…` : line;
}

function endOf(exitStatus: number | undefined, end: CommandEnd | undefined): string {
  if (end === undefined) return `exited with ${exitStatus}`;
  return 'signal' in end ? `was killed by ${end.signal}` : end.reason;
}

export function exitCodeOf(error: unknown): ExitCodeValue {
  return error instanceof AgentError ? error.exitCode : ExitCode.failed;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

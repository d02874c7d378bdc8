import type { Config } from '../core/config/load.ts';
import { AgentError, CommandError, outputTail } from '../core/errors.ts';
import type { Job, JobContext, JobResult } from './job.ts';
import { LOG_LEVELS, type LogLevel } from '../core/logger.ts';
import type { OsFacts } from '../os/facts.ts';
import { TaskFailure } from './scheduler.ts';

/*
 * A job run as a short-lived process of the agent's own binary (`ecs-host-agent job NAME`, an internal command):
 * the daemon hands it what it would have given the job in-process as JSON on stdin, and the process answers with
 * one JSON object per stdout line: its log lines as they happen (the daemon logs them as the task's, so they
 * reach the journal and status as before), then its result or failure. Its exit status says the rest: 0 with a
 * result, 1 with a failure; anything else, or a signal, is a crash the daemon reports as such.
 */

/** A run ends when the job does; the deadline only catches a process that hangs forever. */
export const JOB_PROCESS_TIMEOUT_MS = 24 * 3_600_000;

/** What the daemon hands the job's process: the configuration it runs on (reloads included) and the OS facts. */
export interface JobRequest {
  readonly job: string;
  readonly config: Config;
  readonly os: OsFacts;
}

/** One stdout line of the job's process. */
export type JobMessage =
  | { readonly log: { readonly level: LogLevel; readonly message: string; readonly fields?: Record<string, unknown> } }
  | { readonly result: JobResult }
  | { readonly failure: { readonly message: string; readonly brief?: string } };

/** How the daemon starts a job's process. */
export interface JobProcess {
  /** The command line of a job process but the job's name: node, the daemon's flags, its entry, `job`. */
  readonly argv: readonly [string, ...string[]];
  /** The daemon's environment less what is the daemon's alone (NOTIFY_SOCKET): the AWS SDK reads it. */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Runs `job` in a process of its own through the context's Host. On SIGTERM the process is sent SIGTERM (it
 * alone: an install it runs shares its process group and must finish) and stops as the daemon does: nothing new
 * starts, interruptible commands are killed, the rest is waited for.
 */
export async function runInOwnProcess(spec: JobProcess, job: Job, context: JobContext): Promise<JobResult> {
  const [file, ...args] = spec.argv;
  const request: JobRequest = { job: job.name, config: context.config, os: context.os };
  let end: JobMessage | null = null;
  const onLine = (line: string) => {
    const message = parseMessage(line);
    if (message === null) context.logger.info(`${job.name}: ${line}`);
    else if ('log' in message) context.logger[message.log.level](message.log.message, message.log.fields);
    else end = message;
  };
  const options = {
    target: 'local',
    input: JSON.stringify(request),
    env: spec.env,
    timeoutMs: JOB_PROCESS_TIMEOUT_MS,
    onLine,
    terminate: context.signal,
  } as const;
  let exitCode: number;
  let stderr: string;
  try {
    ({ exitCode, stderr } = await context.host.exec(file, [...args, job.name], options));
  } catch (error) {
    if (!(error instanceof CommandError) || error.signal === undefined) throw error;
    // The OOM killer under the unit's MemoryMax, or an operator: not a failure the job could report itself.
    throw new AgentError(`${job.name}: its process was killed by ${error.signal}${tail(error.stderr)}`);
  }
  return outcome(job.name, end, exitCode, stderr);
}

function outcome(name: string, end: JobMessage | null, exitCode: number, stderr: string): JobResult {
  if (end !== null && 'result' in end && exitCode === 0) return end.result;
  if (end !== null && 'failure' in end && exitCode === 1) {
    const { message, brief } = end.failure;
    throw brief === undefined ? new AgentError(message) : new TaskFailure(message, brief);
  }
  throw new AgentError(`${name}: its process exited with ${exitCode} without a result${tail(stderr)}`);
}

function tail(stderr: string): string {
  const text = outputTail(stderr);
  return text === '' ? '' : `: ${text}`;
}

/** A message of the protocol, or null for any other line (printed by something else in the process). */
function parseMessage(line: string): JobMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const message = value as Record<string, unknown>;
  if ('log' in message) {
    const log = message.log as Record<string, unknown> | null;
    const level = LOG_LEVELS.find((name) => name === log?.level);
    return level !== undefined && typeof log?.message === 'string' ? (message as JobMessage) : null;
  }
  if ('result' in message) return hasText(message.result, 'summary') ? (message as JobMessage) : null;
  if ('failure' in message) return hasText(message.failure, 'message') ? (message as JobMessage) : null;
  return null;
}

function hasText(value: unknown, field: string): boolean {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[field] === 'string';
}

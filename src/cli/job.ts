import { systemClock } from '../daemon/clock.ts';
import { ExitCode, messageOf, UsageError } from '../core/errors.ts';
import type { Job } from '../daemon/job.ts';
import { LOG_LEVELS, type Logger, type LogLevel } from '../core/logger.ts';
import type { JobMessage, JobRequest } from '../daemon/job-process.ts';
import { jobNamed } from '../daemon/jobs.ts';
import { TaskFailure } from '../daemon/scheduler.ts';
import { describeCommands, type RunningCommand, stoppableHost } from '../daemon/stoppable-host.ts';
import { RealHost } from '../host/real-host.ts';
import { readStandardInput } from '../host/stdio.ts';
import type { CommandImplementation } from './command.ts';
import { exitOnceDone } from './exit.ts';
import type { Output } from './output.ts';

/**
 * `ecs-host-agent job NAME`, internal: one run of a daemon job in a process of its own, started by the daemon
 * (src/daemon/job-process.ts says the protocol). The request on stdin carries the configuration the daemon runs
 * on, so a config file edited without a reload does not reach it. SIGTERM stops it as it stops the daemon:
 * nothing new starts, interruptible commands are killed, a running install is waited for.
 */
export const job: CommandImplementation<Output> = {
  async run(output, _flags, operands) {
    const found = jobToRun(operands);
    const request = readRequest(found);
    const send = sender(output);
    const logger = messageLogger(send, request.config.LOG_LEVEL);
    const stop = new AbortController();
    const stoppable = stoppableHost(new RealHost('/', (argv) => logger.debug('exec', { argv })), stop.signal);
    const onStop = () => {
      announceStop(found.name, logger, stoppable.running());
      stop.abort();
    };
    process.on('SIGTERM', onStop).on('SIGINT', onStop);
    const { host } = stoppable;
    try {
      const context = { host, config: request.config, os: request.os, logger, resetAgentState: false };
      send({ result: await found.run({ ...context, signal: stop.signal }) });
      return ExitCode.ok;
    } catch (error) {
      const brief = error instanceof TaskFailure ? { brief: error.brief } : {};
      send({ failure: { message: messageOf(error), ...brief } });
      return ExitCode.failed;
    } finally {
      process.off('SIGTERM', onStop).off('SIGINT', onStop);
      exitOnceDone();
    }
  },
};

/** The job's part of the daemon's stop line: which of its commands are killed, which waited for. */
function announceStop(name: string, logger: Logger, commands: readonly RunningCommand[]): void {
  const killed = commands.filter((command) => command.interruptible);
  const waited = commands.filter((command) => !command.interruptible);
  const parts = [`${name}: stopping: no new step starts`];
  if (killed.length > 0) parts.push(`stopping ${describeCommands(killed, systemClock)}`);
  if (waited.length > 0) parts.push(`waiting for ${describeCommands(waited, systemClock)}`);
  logger.info(parts.join('; '));
}

function jobToRun(operands: readonly string[]): Job {
  const [name, ...rest] = operands;
  const found = name === undefined || rest.length > 0 ? undefined : jobNamed(name);
  if (found === undefined)
    throw new UsageError(`job: expected the name of one daemon job, got ${JSON.stringify(operands)}`);
  return found;
}

function readRequest(found: Job): JobRequest {
  let request: JobRequest;
  try {
    request = JSON.parse(readStandardInput()) as JobRequest;
  } catch (error) {
    throw new UsageError(`job ${found.name}: stdin is not the daemon's request (${messageOf(error)})`);
  }
  if (request?.job !== found.name || typeof request.config !== 'object' || typeof request.os !== 'object')
    throw new UsageError(`job ${found.name}: stdin is not the daemon's request for this job`);
  return request;
}

/** Writes one message a line; a daemon that stopped without waiting (a closed pipe) is told nothing. */
function sender(output: Output): (message: JobMessage) => void {
  return (message) => {
    try {
      output.out(JSON.stringify(message));
    } catch {
      // The daemon is gone; what the job did stands, and the next daemon sees it.
    }
  };
}

/** The daemon logs the lines as the task's own (with its redaction and format); lines below `level` stay here. */
function messageLogger(send: (message: JobMessage) => void, level: LogLevel): Logger {
  const shown = (wanted: LogLevel) => LOG_LEVELS.indexOf(wanted) <= LOG_LEVELS.indexOf(level);
  const record = (wanted: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (shown(wanted)) send({ log: { level: wanted, message, ...(fields === undefined ? {} : { fields }) } });
  };
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
}

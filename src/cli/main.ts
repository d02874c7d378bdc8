#!/usr/bin/env node
import { parseArgs } from 'node:util';

import { ExitCode, exitCodeOf, messageOf, RefusedError, UsageError } from '../core/errors.ts';
import { createLogger } from '../core/logger.ts';
import { type Command, COMMON_OPTIONS, COMMON_USAGE } from './command.ts';
import { createContext, type Environment } from './context.ts';
import { activate } from './activate.ts';
import { apply } from './apply.ts';
import { controlServer } from './control-server.ts';
import { decommissionCommand } from './decommission.ts';
import { detect } from './detect.ts';
import { doctor } from './doctor.ts';
import { drain } from './drain.ts';
import { metrics } from './metrics.ts';
import { plan } from './plan.ts';
import { run } from './run.ts';
import { status } from './status.ts';
import { storage } from './storage.ts';
import { updates } from './updates.ts';
import { users } from './users.ts';
import { version } from './version.ts';

/** One binary for the CLI and the systemd unit; every command lives in its own file. */
export const COMMANDS: readonly Command[] = [detect, plan, apply, run, status, storage, users, metrics, updates, drain, activate, controlServer, doctor, decommissionCommand, version];

export async function main(argv: readonly string[], environment: Environment): Promise<number> {
  const [given, ...rest] = argv;
  const name = given === '--version' ? version.name : given;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    environment.stdout.write(overview());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  try {
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`);
    const { values, positionals } = parseCommandLine(command, rest);
    if (values.help) {
      environment.stdout.write(commandHelp(command));
      return ExitCode.ok;
    }
    const context = await createContext(command, values, environment);
    return await command.run(context, values, positionals);
  } catch (error) {
    report(error, environment);
    return exitCodeOf(error);
  }
}

function parseCommandLine(command: Command, args: readonly string[]) {
  try {
    return parseArgs({ args: [...args], options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command.name}: ${messageOf(error)}`);
  }
}

function report(error: unknown, environment: Environment): void {
  const logger = createLogger({ level: 'error', journald: Boolean(environment.env.JOURNAL_STREAM), stream: environment.stderr });
  const evidence = error instanceof RefusedError && error.evidence.length ? { evidence: error.evidence } : {};
  const hint = error instanceof UsageError ? ' (see ecs-host-agent --help)' : '';
  logger.error(`${messageOf(error)}${hint}`, evidence);
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: ecs-host-agent <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${COMMON_USAGE}\n\nExit codes: 0 ok, 1 failed, 2 usage, 3 refused, 78 configuration error.\n`;
}

function commandHelp(command: Command): string {
  return `Usage: ecs-host-agent ${command.usage}\n\n${command.summary}\n\n${COMMON_USAGE}\n`;
}

if (import.meta.main) {
  main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
  );
}

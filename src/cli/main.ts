#!/usr/bin/env node
import type { ParseArgsOptionsConfig } from 'node:util';

import { ExitCode, exitCodeOf, messageOf, RefusedError, UsageError } from '../core/errors.ts';
import { descriptorSink } from '../host/stdio.ts';
import { type Command, COMMON_OPTIONS, COMMON_USAGE, type FlagValues, synopsis } from './command.ts';
import { COMMANDS, OPERATOR_COMMANDS, VERSION_COMMAND } from './commands.ts';
import { createOutput, type Environment } from './output.ts';

export { COMMANDS };

export async function main(argv: readonly string[], environment: Environment): Promise<number> {
  const [given, ...rest] = argv;
  const name = given === '--version' ? VERSION_COMMAND : given;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    environment.stdout.write(overview());
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  try {
    const command = COMMANDS.find((c) => c.name === name);
    if (!command) {
      const names = OPERATOR_COMMANDS.map((c) => c.name).join(', ');
      throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${names}`);
    }
    const { values, positionals } = parseCommandLine(command, rest);
    if (values.help) {
      environment.stdout.write(commandHelp(command));
      return ExitCode.ok;
    }
    return await runCommand(command, values, positionals, environment);
  } catch (error) {
    await report(error, environment);
    return exitCodeOf(error);
  }
}

/** Loads what the command needs and nothing more: config, logger and Host only for those that use them. */
async function runCommand(
  command: Command,
  flags: FlagValues,
  operands: readonly string[],
  environment: Environment,
): Promise<number> {
  const output = createOutput(flags, environment);
  if (command.outputOnly) return (await command.load()).run(output, flags, operands);
  const { createContext } = await import('./context.ts');
  const context = await createContext(command, flags, environment, output);
  return (await command.load()).run(context, flags, operands);
}

/**
 * Node's parser (a lazily loaded part of node:util) loads only when there is something to parse: 2 ms of
 * `--version`. Without arguments every option has its default.
 */
export function parseCommandLine(
  command: Command,
  args: readonly string[],
): { values: FlagValues; positionals: string[] } {
  if (args.length === 0) return { values: optionDefaults(command), positionals: [] };
  const { parseArgs } = process.getBuiltinModule('node:util');
  try {
    return parseArgs({
      args: [...args],
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(`${command.name}: ${messageOf(error)}`);
  }
}

function optionDefaults(command: Command): FlagValues {
  const options: ParseArgsOptionsConfig = { ...COMMON_OPTIONS, ...command.options };
  const defaults = Object.entries(options).flatMap(([name, { default: value }]) =>
    typeof value === 'string' || typeof value === 'boolean' ? [[name, value]] : [],
  );
  return Object.fromEntries(defaults);
}

async function report(error: unknown, environment: Environment): Promise<void> {
  const { createLogger } = await import('../core/logger.ts');
  const logger = createLogger({
    level: 'error',
    journald: Boolean(environment.env.JOURNAL_STREAM),
    stream: environment.stderr,
  });
  const evidence = error instanceof RefusedError && error.evidence.length ? { evidence: error.evidence } : {};
  const hint = error instanceof UsageError ? ' (see ecs-host-agent --help)' : '';
  logger.error(`${messageOf(error)}${hint}`, evidence);
}

function overview(): string {
  const width = Math.max(...OPERATOR_COMMANDS.map((c) => c.name.length));
  const lines = OPERATOR_COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return (
    `Usage: ecs-host-agent <command> ` +
    `[options]\n\nCommands:\n${lines.join('\n')}\n\n${COMMON_USAGE}\n\nExit codes: 0 ok, 1 failed, 2 ` +
    `usage, 3 refused, 78 configuration error.\n`
  );
}

function commandHelp(command: Command): string {
  return `Usage: ${synopsis(command).join('\n       ')}\n\n${command.summary}\n\n${COMMON_USAGE}\n`;
}

if (import.meta.main) {
  const stdout = descriptorSink(1, () => process.stdout);
  const stderr = descriptorSink(2, () => process.stderr);
  main(process.argv.slice(2), { env: process.env, stdout, stderr }).then((code) => {
    process.exitCode = code;
  });
}

import type { ParseArgsOptionsConfig } from 'node:util';

import type { KeyName } from '../core/config/keys.ts';
import type { Context } from './context.ts';
import type { Output } from './output.ts';

/**
 * One CLI command: a light descriptor (src/cli/commands.ts) with what --help,
 * argument parsing and config need, and its implementation in its own file,
 * imported only when the command runs so that start-up evaluates nothing else.
 */
export type ConfigFlag = KeyName | { readonly key: KeyName; readonly value: string };

export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

/** What a command's file exports: it gets a Context with config, Host and output injected. */
export interface CommandImplementation<C extends Output = Context> {
  run(context: C, flags: FlagValues, operands: readonly string[]): Promise<number>;
}

interface CommandDescriptor {
  readonly name: string;
  readonly summary: string;
  /** Its usage, one line per form, each without the leading "ecs-host-agent ": see `synopsis`. */
  readonly usage: readonly string[];
  readonly options: ParseArgsOptionsConfig;
  /** Flags that set a config key: flag name → key (a boolean flag sets "yes"), or key and the value it sets. */
  readonly configFlags?: Readonly<Record<string, ConfigFlag>>;
  /** A bad config does not stop it: it runs on the defaults and reports the error itself (`status`). */
  readonly reportsConfigError?: true;
  /** The agent's own use, not the operator's (the daemon's job processes): left out of --help and the README. */
  readonly internal?: true;
}

export type Command = CommandDescriptor &
  (
    | { readonly outputOnly?: false; load(): Promise<CommandImplementation> }
    /** Needs no config, Host or logger, so none of them is loaded (and a broken config cannot stop it). */
    | { readonly outputOnly: true; load(): Promise<CommandImplementation<Output>> }
  );

/** The command's forms as whole command lines: what `--help` and the README's synopses print. */
export function synopsis(command: Pick<Command, 'usage'>): string[] {
  return command.usage.flatMap((form) => wrapped(`ecs-host-agent ${form}`));
}

/** Widest line of a synopsis: a longer form goes on below, under its first option. */
const SYNOPSIS_WIDTH = 112;

function wrapped(line: string): string[] {
  const lines: string[] = [];
  const indent = ' '.repeat(line.indexOf(' [') + 1);
  let rest = line;
  while (rest.length > SYNOPSIS_WIDTH) {
    const cut = rest.lastIndexOf(' [', SYNOPSIS_WIDTH);
    if (cut <= indent.length) break;
    lines.push(rest.slice(0, cut));
    rest = `${indent}${rest.slice(cut + 1)}`;
  }
  return [...lines, rest];
}

export const COMMON_OPTIONS = {
  root: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

/** Common options that set a config key, as `configFlags` (the README's key table names them too). */
export const COMMON_CONFIG_FLAGS: Readonly<Record<string, ConfigFlag>> = { 'log-level': 'LOG_LEVEL' };

export const COMMON_USAGE = `Common options:
  --root DIR         manage the image root DIR instead of this machine (AMI baking)
  --config FILE      config file (default /etc/ecs-host-agent/agent.env)
  --json             print data as JSON on stdout
  --log-level LEVEL  error, warn, info or debug (logs go to stderr)
  -h, --help         show help`;

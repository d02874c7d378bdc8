import type { ParseArgsOptionsConfig } from 'node:util';

import type { KeyName } from '../core/config/keys.ts';
import type { Context } from './context.ts';

/**
 * One CLI command per file, corepack-style: it declares its flags, and gets a
 * Context with config, Host and output injected.
 */
export type ConfigFlag = KeyName | { readonly key: KeyName; readonly value: string };

export type FlagValues = Readonly<Record<string, string | boolean | undefined>>;

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Extra usage lines after "ecs-host-agent <name>". */
  readonly usage: string;
  readonly options: ParseArgsOptionsConfig;
  /** Flags that set a config key: flag name → key (a boolean flag sets "yes"), or key and the value it sets. */
  readonly configFlags?: Readonly<Record<string, ConfigFlag>>;
  run(context: Context, flags: FlagValues, operands: readonly string[]): Promise<number>;
}

export const COMMON_OPTIONS = {
  root: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export const COMMON_USAGE = `Common options:
  --root DIR         manage the image root DIR instead of this machine (AMI baking)
  --config FILE      config file (default /etc/ecs-host-agent/agent.env)
  --json             print data as JSON on stdout
  --log-level LEVEL  error, warn, info or debug (logs go to stderr)
  -h, --help         show help`;

import type { ParseArgsOptionsConfig } from 'node:util';

import { CONCERNS } from '../concerns/index.ts';
import type { ConcernContext } from '../core/concern.ts';
import { planAll } from '../core/runner.ts';
import type { ConcernPlan } from '../core/runner.ts';
import type { ConfigFlag, FlagValues } from './command.ts';
import type { Context } from './context.ts';
import { inspectManageable } from './inspect.ts';

/** Flags shared by plan and apply, so `apply --dry-run` and `plan` always mean the same. */
export const CONVERGE_OPTIONS = {
  'allow-ecs-optimized': { type: 'boolean' },
  'reset-agent-state': { type: 'boolean' },
  'ecs-init-version': { type: 'string' },
  'no-gpu': { type: 'boolean' },
} as const satisfies ParseArgsOptionsConfig;

export const CONVERGE_CONFIG_FLAGS: Readonly<Record<string, ConfigFlag>> = {
  'allow-ecs-optimized': 'ALLOW_ECS_OPTIMIZED',
  'ecs-init-version': 'ECSINIT_VERSION',
  'no-gpu': { key: 'GPU_SUPPORT', value: 'no' },
};

export const CONVERGE_USAGE = '[--json] [--root DIR] [--reset-agent-state] [--ecs-init-version V] [--no-gpu] [--allow-ecs-optimized]';

export async function concernContext(context: Context, flags: FlagValues): Promise<ConcernContext> {
  const os = await inspectManageable(context);
  return { host: context.host, config: context.config, os, logger: context.logger, resetAgentState: flags['reset-agent-state'] === true };
}

export async function planConcerns(context: ConcernContext): Promise<ConcernPlan[]> {
  return planAll(CONCERNS, context);
}

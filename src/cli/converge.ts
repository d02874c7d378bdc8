import { CONCERNS } from '../concerns/index.ts';
import type { ConcernContext } from '../core/concern.ts';
import { planAll } from '../core/runner.ts';
import type { ConcernPlan } from '../core/runner.ts';
import type { FlagValues } from './command.ts';
import type { Context } from './context.ts';
import { inspectManageable } from './inspect.ts';

export async function concernContext(context: Context, flags: FlagValues): Promise<ConcernContext> {
  const os = await inspectManageable(context);
  return {
    host: context.host,
    config: context.config,
    os,
    logger: context.logger,
    resetAgentState: flags['reset-agent-state'] === true,
  };
}

export async function planConcerns(context: ConcernContext): Promise<ConcernPlan[]> {
  return planAll(CONCERNS, context);
}

import { CONCERNS } from '../concerns/index.ts';
import { ExitCode } from '../core/errors.ts';
import { planAll } from '../core/runner.ts';
import type { Command } from './command.ts';
import { inspectManageable } from './inspect.ts';
import { renderPlan } from './render.ts';

export const plan: Command = {
  name: 'plan',
  summary: 'show every step the agent would take on this system, changing nothing',
  usage: 'plan [--json] [--root DIR] [--allow-ecs-optimized]',
  options: { 'allow-ecs-optimized': { type: 'boolean' } },
  configFlags: { 'allow-ecs-optimized': 'ALLOW_ECS_OPTIMIZED' },
  async run(context) {
    const os = await inspectManageable(context);
    const plans = await planAll(CONCERNS, { host: context.host, config: context.config, os, logger: context.logger });
    if (context.json) context.out(JSON.stringify({ root: os.root, system: os.release.prettyName, concerns: plans }, null, 2));
    else context.out(renderPlan(plans));
    return plans.some((p) => p.error) ? ExitCode.failed : ExitCode.ok;
  },
};

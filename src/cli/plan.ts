import { ExitCode } from '../core/errors.ts';
import type { CommandImplementation } from './command.ts';
import { concernContext, planConcerns } from './converge.ts';
import type { Context } from './context.ts';
import { renderPlan } from './render.ts';
import { type ConcernPlan, failureExitCode } from '../core/runner.ts';

export const plan: CommandImplementation = {
  async run(context, flags) {
    const concerns = await concernContext(context, flags);
    return printPlan(context, concerns.os.root, concerns.os.release.prettyName, await planConcerns(concerns));
  },
};

export function printPlan(context: Context, root: string, system: string, plans: readonly ConcernPlan[]): number {
  if (context.json) context.out(JSON.stringify({ root, system, concerns: plans }, null, 2));
  else context.out(renderPlan(plans));
  return plans.some((p) => p.error) ? failureExitCode(plans) : ExitCode.ok;
}

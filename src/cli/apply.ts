import { CONCERNS } from '../concerns/index.ts';
import { ExitCode } from '../core/errors.ts';
import { applyAll, type ConcernOutcome, failureExitCode } from '../core/runner.ts';
import { proveRegistration } from '../ecs-agent/prove.ts';
import type { Registration } from '../ecs-agent/registration.ts';
import type { CommandImplementation } from './command.ts';
import { concernContext, planConcerns } from './converge.ts';
import type { Context } from './context.ts';
import { printPlan } from './plan.ts';
import { renderOutcomes } from './render.ts';

export const apply: CommandImplementation = {
  async run(context, flags) {
    const concerns = await concernContext(context, flags);
    if (flags['dry-run'])
      return printPlan(context, concerns.os.root, concerns.os.release.prettyName, await planConcerns(concerns));
    const outcomes = await applyAll(CONCERNS, concerns);
    if (outcomes.some((outcome) => outcome.error)) {
      print(context, outcomes, null);
      return failureExitCode(outcomes);
    }
    try {
      print(
        context,
        outcomes,
        flags['no-verify']
          ? 'not verified: --no-verify'
          : await proveRegistration(context.host, context.config, concerns.os),
      );
    } catch (error) {
      print(context, outcomes, null);
      throw error;
    }
    return ExitCode.ok;
  },
};

function print(
  context: Context,
  outcomes: readonly ConcernOutcome[],
  registration: Registration | string | null,
): void {
  if (context.json) context.out(JSON.stringify({ concerns: outcomes, registration }, null, 2));
  else context.out(renderOutcomes(outcomes, registration));
}

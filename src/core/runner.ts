import type { Action, Concern, ConcernContext } from './concern.ts';
import { ExitCode, exitCodeOf, type ExitCodeValue, messageOf, StoppingError } from './errors.ts';

/** A concern's plan, or the error that kept it from planning; one failing concern never stops the others. */
export interface ConcernPlan {
  readonly concern: string;
  readonly actions: readonly Action[];
  readonly warnings: readonly string[];
  readonly error?: string;
  /** The exit code of the error: 78 when the configuration (or a file the operator wrote) must be fixed first. */
  readonly exitCode?: ExitCodeValue;
}

export interface ConcernOutcome extends ConcernPlan {
  readonly applied: number;
}

// Concerns of different fact and action types share one list; each only ever sees its own.

export type AnyConcern = Concern<any, any>;

export async function planAll(
  concerns: readonly AnyConcern[],
  context: ConcernContext,
  signal?: AbortSignal,
): Promise<ConcernPlan[]> {
  const plans: ConcernPlan[] = [];
  for (const concern of concerns.filter((c) => c.enabled(context))) {
    if (signal?.aborted) {
      plans.push({ concern: concern.name, actions: [], warnings: [], error: 'not planned, the agent is stopping' });
      continue;
    }
    try {
      const facts = await concern.gather(context);
      const warnings = concern.warnings?.(facts, context) ?? [];
      for (const warning of warnings) context.logger.warn(`${concern.name}: ${warning}`);
      plans.push({ concern: concern.name, actions: concern.plan(facts, context), warnings });
    } catch (error) {
      logFailure(context, signal, `${concern.name}: planning failed: ${messageOf(error)}`);
      const failure = { error: messageOf(error), exitCode: exitCodeOf(error) };
      plans.push({ concern: concern.name, actions: [], warnings: [], ...failure });
    }
  }
  return plans;
}

/**
 * Plans and applies each concern in turn; a concern stops at its first failed step.
 * Once `signal` aborts (the daemon is stopping) no further step starts: each one left is reported as not started.
 */
export async function applyAll(
  concerns: readonly AnyConcern[],
  context: ConcernContext,
  signal?: AbortSignal,
): Promise<ConcernOutcome[]> {
  const outcomes: ConcernOutcome[] = [];
  for (const plan of await planAll(concerns, context, signal)) {
    const concern = concerns.find((c) => c.name === plan.concern) as AnyConcern;
    let applied = 0;
    try {
      for (const action of plan.actions) {
        if (signal?.aborted) throw new StoppingError(`not started, the agent is stopping: ${action.summary}`);
        context.logger.info(`${concern.name}: ${action.summary}`);
        await concern.apply(action, context);
        applied++;
      }
      outcomes.push({ ...plan, applied });
    } catch (error) {
      logFailure(context, signal, `${concern.name}: ${messageOf(error)}`);
      outcomes.push({ ...plan, applied, error: messageOf(error), exitCode: exitCodeOf(error) });
    }
  }
  return outcomes;
}

/** A step cut short because the agent is stopping is no error to alert on. */
function logFailure(context: ConcernContext, signal: AbortSignal | undefined, message: string): void {
  if (signal?.aborted) context.logger.info(message);
  else context.logger.error(message);
}

/** 78 when every failed concern failed on configuration (retrying cannot help), else 1. */
export function failureExitCode(plans: readonly ConcernPlan[]): ExitCodeValue {
  const failed = plans.filter((plan) => plan.error !== undefined);
  const configOnly = failed.length > 0 && failed.every((plan) => plan.exitCode === ExitCode.config);
  return configOnly ? ExitCode.config : ExitCode.failed;
}

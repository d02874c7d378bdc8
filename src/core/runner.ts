import type { Action, Concern, ConcernContext } from './concern.ts';
import { messageOf } from './errors.ts';

/** A concern's plan, or the error that kept it from planning; one failing concern never stops the others. */
export interface ConcernPlan {
  readonly concern: string;
  readonly actions: readonly Action[];
  readonly error?: string;
}

export interface ConcernOutcome extends ConcernPlan {
  readonly applied: number;
}

// Concerns of different fact and action types share one list; each only ever sees its own.

export type AnyConcern = Concern<any, any>;

export async function planAll(concerns: readonly AnyConcern[], context: ConcernContext): Promise<ConcernPlan[]> {
  const plans: ConcernPlan[] = [];
  for (const concern of concerns.filter((c) => c.enabled(context))) {
    try {
      plans.push({ concern: concern.name, actions: concern.plan(await concern.gather(context), context) });
    } catch (error) {
      context.logger.error(`${concern.name}: planning failed: ${messageOf(error)}`);
      plans.push({ concern: concern.name, actions: [], error: messageOf(error) });
    }
  }
  return plans;
}

/** Plans and applies each concern in turn; a concern stops at its first failed step. */
export async function applyAll(concerns: readonly AnyConcern[], context: ConcernContext): Promise<ConcernOutcome[]> {
  const outcomes: ConcernOutcome[] = [];
  for (const plan of await planAll(concerns, context)) {
    const concern = concerns.find((c) => c.name === plan.concern) as AnyConcern;
    let applied = 0;
    try {
      for (const action of plan.actions) {
        context.logger.info(`${concern.name}: ${action.summary}`);
        await concern.apply(action, context);
        applied++;
      }
      outcomes.push({ ...plan, applied });
    } catch (error) {
      context.logger.error(`${concern.name}: ${messageOf(error)}`);
      outcomes.push({ ...plan, applied, error: messageOf(error) });
    }
  }
  return outcomes;
}

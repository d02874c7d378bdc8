import type { EventInput, EventReporter } from '../control/events.ts';
import { messageOf } from '../core/errors.ts';
import type { DecommissionOutcome, OutcomeReporter } from './decommission.ts';

/**
 * A decommission as a host event of the control protocol: outcome `drained`,
 * `tasks-left` (the drain timed out; they were orphaned when deregistering),
 * `no-instance` (nothing was registered) or `failed` (a step threw).
 */
export function decommissionEvent(outcome: DecommissionOutcome): EventInput {
  const { instance } = outcome;
  const word = instance === null ? 'no-instance' : outcome.drained ? 'drained' : 'tasks-left';
  const what =
    instance === null ? 'no container instance' : `${instance.containerInstanceArn} (cluster "${instance.cluster}")`;
  return {
    type: 'decommission',
    outcome: word,
    ok: outcome.drained,
    message: `${what}: ${outcome.drain}; ${outcome.deregistered ? 'deregistered' : 'not deregistered'}`,
    details: { ...outcome },
  };
}

export function decommissionFailure(error: unknown): EventInput {
  return {
    type: 'decommission',
    outcome: 'failed',
    ok: false,
    message: `decommission failed: ${messageOf(error)}`,
    details: {},
  };
}

export function reportDecommissionTo(reporter: EventReporter): OutcomeReporter {
  return async (outcome) => {
    await reporter.report(decommissionEvent(outcome));
  };
}

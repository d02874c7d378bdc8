import type { Config } from './config/load.ts';
import type { Logger } from './logger.ts';
import type { Host } from '../host/host.ts';
import type { OsFacts } from '../os/facts.ts';
import type { Step } from './step.ts';

/**
 * One concern of the host (docker, ecs, storage, users …), in the
 * diff-then-apply shape: gather reads, plan is pure, apply is the only step
 * that changes the system. After apply, plan(gather()) is empty.
 */
export interface Action {
  /** What the step does, in one line an operator reads in `plan`. */
  readonly summary: string;
  /** The commands and files behind it, as data: `plan` prints them and apply performs exactly them. */
  readonly steps: readonly Step[];
}

/** The action of a concern, by kind. */
export type StepAction<Kind extends string> = Action & { readonly kind: Kind };

export interface ConcernContext {
  readonly host: Host;
  readonly config: Config;
  readonly os: OsFacts;
  readonly logger: Logger;
  /** `--reset-agent-state`: the operator asked to clear stale ECS agent state. */
  readonly resetAgentState: boolean;
}

export interface Concern<Facts, A extends Action> {
  readonly name: string;
  enabled(context: ConcernContext): boolean;
  gather(context: ConcernContext): Promise<Facts>;
  plan(facts: Facts, context: ConcernContext): A[];
  /** Problems the operator must know about that no step of the plan fixes by itself. */
  warnings?(facts: Facts, context: ConcernContext): string[];
  apply(action: A, context: ConcernContext): Promise<void>;
}

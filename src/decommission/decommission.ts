import type { Ecs } from '../aws/ecs.ts';
import { ECS_INIT_PLATFORMS } from '../concerns/ecs/platform.ts';
import { stopUnit } from '../os/systemd-unit.ts';
import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { PATHS } from '../core/paths.ts';
import { readAgentState } from '../ecs-agent/agent-state.ts';
import { clusterNameOf } from '../ecs-agent/arn.ts';
import {
  describeInstance,
  describeRemaining,
  DrainError,
  drainInstance,
  type InstanceRef,
  type InstanceState,
  localInstance,
  type TaskOnInstance,
} from '../ecs-agent/drain.ts';
import type { Host } from '../host/host.ts';
import type { OsFacts } from '../os/facts.ts';
import { readRecord, removeRecord, writeRecord } from './record.ts';

/**
 * Removing this host from its cluster cleanly, as OpsWorks did when a host
 * was stopped: drain (DRAINING, wait for the tasks to leave, name the
 * standalone ones ECS will not move), stop ecs-init so nothing registers
 * again, optionally deregister, clear the agent state, report. Every step is
 * safe to repeat, so a run cut short converges when run again.
 */
export interface DecommissionOptions {
  readonly deregister: boolean;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface DecommissionOutcome {
  /** Null when no container instance could be found (never registered, or already decommissioned). */
  readonly instance: InstanceRef | null;
  readonly drained: boolean;
  /** What the drain came to, in one line. */
  readonly drain: string;
  readonly remaining: readonly TaskOnInstance[];
  /** ECS no longer has the instance registered (deregistered now or before). */
  readonly deregistered: boolean;
  readonly stateCleared: boolean;
}

export type OutcomeReporter = (outcome: DecommissionOutcome) => Promise<void>;

export interface DecommissionDependencies {
  readonly host: Host;
  readonly config: Config;
  readonly os: OsFacts;
  readonly logger: Logger;
  ecs(): Promise<Ecs>;
  /** Sends the outcome to the control endpoint; null when there is none. */
  readonly report: OutcomeReporter | null;
}

export async function decommission(
  deps: DecommissionDependencies,
  options: DecommissionOptions,
): Promise<DecommissionOutcome> {
  const instance = (await findInstance(deps))?.ref ?? null;
  if (instance !== null) await writeRecord(deps.host, instance);
  const drain =
    instance === null ? gone('no container instance is known to this host') : await drainStep(deps, instance, options);
  await stopEcsInit(deps);
  if (instance !== null && options.deregister && !drain.gone) await deregister(deps, instance, drain.drained);
  await clearAgentState(deps.host);
  const outcome: DecommissionOutcome = {
    instance,
    drained: drain.drained,
    drain: drain.text,
    remaining: drain.remaining,
    deregistered: instance !== null && options.deregister,
    stateCleared: true,
  };
  await reportOutcome(deps, outcome);
  await removeRecord(deps.host);
  return outcome;
}

/** Where the instance was found: the record of an interrupted run, the running ECS agent, or its saved state. */
export type InstanceSource = 'record' | 'ecs-agent' | 'agent-state';

export interface FoundInstance {
  readonly ref: InstanceRef;
  readonly source: InstanceSource;
}

/** The record of an interrupted run first, then the running agent, then the agent's saved state (reads only). */
export async function findInstance(
  deps: Pick<DecommissionDependencies, 'host' | 'config' | 'logger'>,
): Promise<FoundInstance | null> {
  const recorded = await readRecord(deps.host);
  if (recorded) return { ref: recorded, source: 'record' };
  try {
    return { ref: await localInstance(deps.host, deps.config.INTROSPECTION_URL), source: 'ecs-agent' };
  } catch (error) {
    deps.logger.info(`the ECS agent cannot name the instance (${messageOf(error)}); looking in its saved state`);
  }
  const state = await readAgentState(deps.host);
  if (state?.containerInstanceArn && state.cluster) {
    return {
      ref: { cluster: clusterNameOf(state.cluster), containerInstanceArn: state.containerInstanceArn },
      source: 'agent-state',
    };
  }
  return null;
}

/** What ECS says of the instance, or why there is nothing to drain or deregister: it is deregistered already. */
export async function registeredState(
  ecs: Ecs,
  instance: InstanceRef,
): Promise<{ readonly state: InstanceState } | { readonly gone: string }> {
  try {
    const state = await describeInstance(ecs, instance);
    return state.status === 'INACTIVE'
      ? { gone: `${instance.containerInstanceArn} is deregistered already` }
      : { state };
  } catch (error) {
    // describeInstance names an instance ECS no longer has this way; anything else (permissions, network) stops here.
    if (error instanceof DrainError && error.message.startsWith('ECS does not know')) return { gone: error.message };
    throw error;
  }
}

interface DrainStep {
  readonly drained: boolean;
  /** The instance is deregistered already: nothing to drain or deregister. */
  readonly gone: boolean;
  readonly text: string;
  readonly remaining: readonly TaskOnInstance[];
}

function gone(text: string): DrainStep {
  return { drained: true, gone: true, text, remaining: [] };
}

async function drainStep(
  deps: DecommissionDependencies,
  instance: InstanceRef,
  options: DecommissionOptions,
): Promise<DrainStep> {
  const ecs = await deps.ecs();
  const registered = await registeredState(ecs, instance);
  if ('gone' in registered) return gone(registered.gone);
  deps.logger.info(`draining ${instance.containerInstanceArn} in cluster "${instance.cluster}"`);
  const outcome = await drainInstance(ecs, deps.host, instance, options);
  const text = describeRemaining(outcome, options.timeoutMs);
  if (!outcome.drained) deps.logger.warn(text);
  return { drained: outcome.drained, gone: false, text, remaining: outcome.drained ? [] : outcome.remaining };
}

async function stopEcsInit(deps: DecommissionDependencies): Promise<void> {
  const unit = ecsInitUnit(deps.os);
  if (unit !== null) await stopUnit(deps.host, unit, deps.os);
}

/** ecs-init's unit on this OS; null where the agent does not manage the OS. */
export function ecsInitUnit(os: OsFacts): string | null {
  const { support } = os;
  return support.status === 'refused' ? null : ECS_INIT_PLATFORMS[support.packageManager].unit;
}

/** Tasks still there after the timeout are orphaned by a forced deregistration: the host is going away. */
async function deregister(deps: DecommissionDependencies, instance: InstanceRef, drained: boolean): Promise<void> {
  const ecs = await deps.ecs();
  try {
    await ecs.deregisterContainerInstance({
      cluster: instance.cluster,
      containerInstance: instance.containerInstanceArn,
      force: !drained,
    });
  } catch (error) {
    throw new DrainError(
      `ecs:DeregisterContainerInstance of ${instance.containerInstanceArn} failed: ${messageOf(error)}`,
    );
  }
  deps.logger.info(`deregistered ${instance.containerInstanceArn}${drained ? '' : ' (forced: tasks were left)'}`);
}

async function clearAgentState(host: Host): Promise<void> {
  for (const entry of await agentStateEntries(host))
    await host.rm(`${PATHS.ecsAgentData}/${entry}`, { recursive: true });
}

/** What the ECS agent keeps in its data directory (cleared so that a new registration starts afresh). */
export async function agentStateEntries(host: Host): Promise<string[]> {
  if ((await host.stat(PATHS.ecsAgentData))?.kind !== 'directory') return [];
  return host.readdir(PATHS.ecsAgentData);
}

/** The outcome is worth sending, but a control endpoint that is down must not keep the host from going away. */
async function reportOutcome(deps: DecommissionDependencies, outcome: DecommissionOutcome): Promise<void> {
  if (deps.report === null) return;
  try {
    await deps.report(outcome);
  } catch (error) {
    deps.logger.warn(`the control endpoint did not take the decommission report: ${messageOf(error)}`);
  }
}

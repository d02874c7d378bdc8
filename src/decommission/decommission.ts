import { DeregisterContainerInstanceCommand, type ECSClient } from '@aws-sdk/client-ecs';

import { ECS_INIT_PLATFORMS } from '../concerns/ecs/platform.ts';
import { stopUnit } from '../concerns/systemd-unit.ts';
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
  ecs(): Promise<ECSClient>;
  /** Sends the outcome to the control endpoint; null when there is none. */
  readonly report: OutcomeReporter | null;
}

export async function decommission(deps: DecommissionDependencies, options: DecommissionOptions): Promise<DecommissionOutcome> {
  const instance = await findInstance(deps);
  if (instance !== null) await writeRecord(deps.host, instance);
  const drain = instance === null ? gone('no container instance is known to this host') : await drainStep(deps, instance, options);
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

/** The record of an interrupted run first, then the running agent, then the agent's saved state. */
async function findInstance(deps: DecommissionDependencies): Promise<InstanceRef | null> {
  const recorded = await readRecord(deps.host);
  if (recorded) return recorded;
  try {
    return await localInstance(deps.host, deps.config.INTROSPECTION_URL);
  } catch (error) {
    deps.logger.info(`the ECS agent cannot name the instance (${messageOf(error)}); looking in its saved state`);
  }
  const state = await readAgentState(deps.host);
  if (state?.containerInstanceArn && state.cluster) return { cluster: clusterNameOf(state.cluster), containerInstanceArn: state.containerInstanceArn };
  return null;
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

async function drainStep(deps: DecommissionDependencies, instance: InstanceRef, options: DecommissionOptions): Promise<DrainStep> {
  const ecs = await deps.ecs();
  try {
    if ((await describeInstance(ecs, instance)).status === 'INACTIVE') return gone(`${instance.containerInstanceArn} is deregistered already`);
  } catch (error) {
    // describeInstance names an instance ECS no longer has this way; anything else (permissions, network) stops here.
    if (error instanceof DrainError && error.message.startsWith('ECS does not know')) return gone(error.message);
    throw error;
  }
  deps.logger.info(`draining ${instance.containerInstanceArn} in cluster "${instance.cluster}"`);
  const outcome = await drainInstance(ecs, deps.host, instance, options);
  const text = describeRemaining(outcome, options.timeoutMs);
  if (!outcome.drained) deps.logger.warn(text);
  return { drained: outcome.drained, gone: false, text, remaining: outcome.drained ? [] : outcome.remaining };
}

async function stopEcsInit(deps: DecommissionDependencies): Promise<void> {
  const { support } = deps.os;
  if (support.status === 'refused') return;
  await stopUnit(deps.host, ECS_INIT_PLATFORMS[support.packageManager].unit, deps.os);
}

/** Tasks still there after the timeout are orphaned by a forced deregistration: the host is going away. */
async function deregister(deps: DecommissionDependencies, instance: InstanceRef, drained: boolean): Promise<void> {
  const ecs = await deps.ecs();
  try {
    await ecs.send(new DeregisterContainerInstanceCommand({ cluster: instance.cluster, containerInstance: instance.containerInstanceArn, force: !drained }));
  } catch (error) {
    throw new DrainError(`ecs:DeregisterContainerInstance of ${instance.containerInstanceArn} failed: ${messageOf(error)}`);
  }
  deps.logger.info(`deregistered ${instance.containerInstanceArn}${drained ? '' : ' (forced: tasks were left)'}`);
}

async function clearAgentState(host: Host): Promise<void> {
  if ((await host.stat(PATHS.ecsAgentData))?.kind !== 'directory') return;
  for (const entry of await host.readdir(PATHS.ecsAgentData)) await host.rm(`${PATHS.ecsAgentData}/${entry}`, { recursive: true });
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

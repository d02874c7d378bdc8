import type { InstanceRef, TaskOnInstance } from '../ecs-agent/drain.ts';
import { listInstanceTasks } from '../ecs-agent/drain.ts';
import {
  agentStateEntries,
  type DecommissionDependencies,
  type DecommissionOptions,
  ecsInitUnit,
  findInstance,
  type InstanceSource,
  registeredState,
} from './decommission.ts';

/**
 * `decommission --dry-run`: what a decommission would do on this host, found
 * with reads only (the agent's own files, the ECS agent's introspection,
 * DescribeContainerInstances, ListTasks and DescribeTasks). Nothing is
 * recorded, drained, stopped, deregistered, cleared or reported.
 */
export interface DecommissionPreview {
  readonly dryRun: true;
  /** Null when no container instance is known to this host. */
  readonly instance: InstanceRef | null;
  readonly foundIn: InstanceSource | null;
  /** ECS's status of the instance; null without one or when ECS has it deregistered already. */
  readonly status: string | null;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  /** Not part of a service: ECS will not move them, so the drain would time out and leave them. */
  readonly standaloneTasks: readonly TaskOnInstance[];
  /** What the drain would do, in one line ("would ..."). */
  readonly drain: string;
  readonly wouldDeregister: boolean;
  /** ecs-init's unit, stopped so that nothing registers again; null where the OS is not managed. */
  readonly wouldStop: string | null;
  /** Entries of the ECS agent's data directory that would be cleared. */
  readonly agentStateEntries: number;
  /** The control endpoint's URL, or the EVENTS_SINK_FILE the outcome would be written to. */
  readonly reportTo: string;
  readonly timeoutMs: number;
}

export type PreviewDependencies = Pick<DecommissionDependencies, 'host' | 'config' | 'os' | 'logger' | 'ecs'> & {
  readonly reportTo: string;
};

export async function previewDecommission(
  deps: PreviewDependencies,
  options: Omit<DecommissionOptions, 'pollIntervalMs'>,
): Promise<DecommissionPreview> {
  const found = await findInstance(deps);
  const common = {
    dryRun: true,
    instance: found?.ref ?? null,
    foundIn: found?.source ?? null,
    wouldStop: ecsInitUnit(deps.os),
    agentStateEntries: (await agentStateEntries(deps.host)).length,
    reportTo: deps.reportTo,
    timeoutMs: options.timeoutMs,
  } as const;
  const idle = {
    status: null,
    runningTasksCount: 0,
    pendingTasksCount: 0,
    standaloneTasks: [],
    wouldDeregister: false,
  };
  if (found === null)
    return { ...common, ...idle, drain: 'would do nothing: no container instance is known to this host' };
  const ecs = await deps.ecs();
  const registered = await registeredState(ecs, found.ref);
  if ('gone' in registered) return { ...common, ...idle, drain: `would do nothing: ${registered.gone}` };
  const { status, runningTasksCount, pendingTasksCount } = registered.state;
  const busy = runningTasksCount + pendingTasksCount > 0;
  const standaloneTasks = busy ? (await listInstanceTasks(ecs, found.ref)).filter((task) => task.standalone) : [];
  return {
    ...common,
    status,
    runningTasksCount,
    pendingTasksCount,
    standaloneTasks,
    drain: drainPlan(status, standaloneTasks.length, busy),
    wouldDeregister: options.deregister,
  };
}

function drainPlan(status: string, standalone: number, busy: boolean): string {
  const set = status === 'DRAINING' ? 'would keep it DRAINING' : `would set it DRAINING (now ${status})`;
  if (!busy) return `${set}; no task to wait for`;
  if (standalone === 0) return `${set} and wait while ECS moves its service tasks`;
  return `${set} and wait; ${standalone} standalone task(s) ECS will not move would be left when the timeout passes`;
}

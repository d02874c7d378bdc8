import type { Ecs } from '../aws/ecs.ts';
import { formatDuration } from '../core/config/values.ts';
import { AgentError, messageOf } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import { clusterNameOf } from './arn.ts';
import { pollAgentMetadata } from './introspection.ts';

/**
 * Taking a container instance out of service and back: DRAINING makes ECS
 * move service tasks elsewhere and place nothing new; tasks started without a
 * service (RunTask, StartTask) are not moved and are named, so the operator
 * knows what a timeout is waiting for. Used by the reboot sequence, by
 * `drain`/`activate` and by `decommission`.
 */
export interface InstanceRef {
  readonly cluster: string;
  readonly containerInstanceArn: string;
}

export interface InstanceState {
  readonly status: string;
  readonly runningTasksCount: number;
  readonly pendingTasksCount: number;
  readonly agentConnected: boolean;
}

export interface TaskOnInstance {
  readonly taskArn: string;
  /** "family:revision" of its task definition. */
  readonly name: string;
  /** e.g. "service:web" or "family:batch". */
  readonly group: string | null;
  readonly startedBy: string | null;
  /** Not part of a service: ECS will not move it. */
  readonly standalone: boolean;
}

export type DrainOutcome =
  { readonly drained: true } | { readonly drained: false; readonly remaining: readonly TaskOnInstance[] };

export interface DrainWait {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  /** Runs before each pause between polls: the reboot sequence renews its fleet slot there. */
  readonly betweenPolls?: () => Promise<void>;
}

export class DrainError extends AgentError {}

export const DRAIN_POLL_INTERVAL_MS = 5000;

export async function describeInstance(ecs: Ecs, ref: InstanceRef): Promise<InstanceState> {
  const reply = await call('ecs:DescribeContainerInstances', ref, () =>
    ecs.describeContainerInstances({ cluster: ref.cluster, containerInstances: [ref.containerInstanceArn] }),
  );
  const instance = reply.containerInstances?.[0];
  if (!instance)
    throw new DrainError(
      `ECS does not know container instance ` +
        `${ref.containerInstanceArn} in cluster "${ref.cluster}" (${reply.failures?.[0]?.reason ?? 'no reason given'})`,
    );
  const { status, runningTasksCount, pendingTasksCount, agentConnected } = instance;
  if (typeof status !== 'string' || typeof runningTasksCount !== 'number') {
    throw new DrainError(
      `ECS DescribeContainerInstances returned ${ref.containerInstanceArn} without a status or runningTasksCount`,
    );
  }
  return {
    status,
    runningTasksCount,
    pendingTasksCount: pendingTasksCount ?? 0,
    agentConnected: agentConnected === true,
  };
}

export async function setInstanceStatus(ecs: Ecs, ref: InstanceRef, status: 'ACTIVE' | 'DRAINING'): Promise<void> {
  const reply = await call('ecs:UpdateContainerInstancesState', ref, () =>
    ecs.updateContainerInstancesState({ cluster: ref.cluster, containerInstances: [ref.containerInstanceArn], status }),
  );
  const failure = reply.failures?.[0];
  if (failure)
    throw new DrainError(
      `ECS refused to set ${ref.containerInstanceArn} ${status}: ` +
        `${failure.reason ?? 'no reason given'}${failure.detail ? ` (${failure.detail})` : ''}`,
    );
}

/** Tasks ECS still wants running on the instance. */
export async function listInstanceTasks(ecs: Ecs, ref: InstanceRef): Promise<TaskOnInstance[]> {
  const arns = await call('ecs:ListTasks', ref, () =>
    ecs.listTasks({ cluster: ref.cluster, containerInstance: ref.containerInstanceArn, desiredStatus: 'RUNNING' }),
  );
  const tasks: TaskOnInstance[] = [];
  // DescribeTasks takes at most 100 tasks per call.
  for (let start = 0; start < arns.length; start += 100) {
    const reply = await call('ecs:DescribeTasks', ref, () =>
      ecs.describeTasks({ cluster: ref.cluster, tasks: arns.slice(start, start + 100) }),
    );
    for (const task of reply.tasks ?? []) tasks.push(summarizeTask(task));
  }
  return tasks;
}

function summarizeTask(task: {
  taskArn?: string;
  taskDefinitionArn?: string;
  group?: string;
  startedBy?: string;
}): TaskOnInstance {
  const group = task.group ?? null;
  return {
    taskArn: task.taskArn ?? '(unknown)',
    name: task.taskDefinitionArn?.split('/').pop() ?? '(unknown task definition)',
    group,
    startedBy: task.startedBy ?? null,
    standalone: !(group?.startsWith('service:') ?? false),
  };
}

/** Polls until no task runs or is pending on the instance, or the timeout passes (then names what is left). */
export async function waitUntilDrained(ecs: Ecs, host: Host, ref: InstanceRef, wait: DrainWait): Promise<DrainOutcome> {
  const deadline = host.now().getTime() + wait.timeoutMs;
  for (;;) {
    const state = await describeInstance(ecs, ref);
    if (state.runningTasksCount === 0 && state.pendingTasksCount === 0) return { drained: true };
    const left = deadline - host.now().getTime();
    if (left <= 0) return { drained: false, remaining: await listInstanceTasks(ecs, ref) };
    await wait.betweenPolls?.();
    await host.sleep(Math.min(wait.pollIntervalMs, left));
  }
}

/** Sets DRAINING and waits; the instance stays DRAINING whatever the outcome (the caller decides). */
export async function drainInstance(ecs: Ecs, host: Host, ref: InstanceRef, wait: DrainWait): Promise<DrainOutcome> {
  await setInstanceStatus(ecs, ref, 'DRAINING');
  return waitUntilDrained(ecs, host, ref, wait);
}

export function describeRemaining(outcome: DrainOutcome, timeoutMs: number): string {
  if (outcome.drained) return 'drained: no task left on the instance';
  const standalone = outcome.remaining.filter((task) => task.standalone);
  const names = standalone.map(
    (task) =>
      `${task.name} (${task.taskArn.split('/').pop()}${task.startedBy ? `, started by ${task.startedBy}` : ''})`,
  );
  return (
    `${outcome.remaining.length} task(s) still on the instance after ${formatDuration(timeoutMs)}` +
    (names.length
      ? `; standalone tasks ECS will not move: ${names.join(', ')}`
      : '; service tasks are still being replaced')
  );
}

/** The container instance this host runs, as its ECS agent reports it. */
export async function localInstance(host: Host, introspectionUrl: string): Promise<InstanceRef> {
  const poll = await pollAgentMetadata(host, introspectionUrl);
  if (!poll.answered)
    throw new DrainError(`the ECS agent does not answer at ${introspectionUrl} (${poll.reason}): is it running?`);
  const { cluster, containerInstanceArn } = poll.metadata;
  if (containerInstanceArn === null)
    throw new DrainError('the ECS agent has not registered this instance yet: nothing to drain');
  return { cluster: clusterNameOf(cluster), containerInstanceArn };
}

async function call<T>(permission: string, ref: InstanceRef, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw new DrainError(
      `${permission} in cluster "${ref.cluster}" failed: ${messageOf(error)} (the ` +
        `instance role needs ${permission})`,
    );
  }
}

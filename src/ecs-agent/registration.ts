import { isAwsError } from '../aws/clients.ts';
import type { Ecs } from '../aws/ecs.ts';
import type { Config } from '../core/config/load.ts';
import { formatDuration } from '../core/config/values.ts';
import { AgentError, messageOf } from '../core/errors.ts';
import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import { clusterNameOf } from './arn.ts';
import { type AgentMetadata, pollAgentMetadata } from './introspection.ts';

/**
 * Proves that the instance joined the configured cluster instead of assuming
 * it: the local agent must report the cluster and a container instance ARN,
 * and ECS must agree that this instance is ACTIVE with its agent connected.
 * Everything is polled against one deadline, because the agent registers some
 * time after it starts and ECS reports agentConnected a while after that.
 */
export interface RegistrationOptions {
  readonly cluster: string;
  readonly introspectionUrl: string;
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
}

export interface Registration {
  readonly cluster: string;
  readonly containerInstanceArn: string;
  readonly agentVersion: string;
  readonly status: string;
  readonly agentConnected: boolean;
}

export class RegistrationError extends AgentError {}

export const REGISTRATION_POLL_INTERVAL_MS = 5000;

export function registrationOptions(config: Config): RegistrationOptions {
  return {
    cluster: config.ECS_CLUSTER,
    introspectionUrl: config.INTROSPECTION_URL,
    timeoutMs: config.REGISTRATION_TIMEOUT,
    pollIntervalMs: REGISTRATION_POLL_INTERVAL_MS,
  };
}

export async function verifyRegistration(host: Host, ecs: Ecs, options: RegistrationOptions): Promise<Registration> {
  const deadline = host.now().getTime() + options.timeoutMs;
  const agent = await pollUntil(host, deadline, options.pollIntervalMs, () => checkAgent(host, options));
  const arn = agent.containerInstanceArn;
  const instance = await pollUntil(host, deadline, options.pollIntervalMs, () => checkInstance(ecs, options, arn));
  return { cluster: clusterNameOf(agent.cluster), containerInstanceArn: arn, agentVersion: agent.version, ...instance };
}

type RegisteredAgent = AgentMetadata & { readonly containerInstanceArn: string };
type InstanceState = Pick<Registration, 'status' | 'agentConnected'>;

/** A check's outcome: the value, or what is still wrong, reported if the deadline passes. */
type Check<T> = { readonly value: T } | { readonly waiting: string };

async function pollUntil<T>(
  host: Host,
  deadline: number,
  intervalMs: number,
  check: () => Promise<Check<T>>,
): Promise<T> {
  for (;;) {
    const outcome = await check();
    if ('value' in outcome) return outcome.value;
    const left = deadline - host.now().getTime();
    if (left <= 0) throw new RegistrationError(`${outcome.waiting}; see ${PATHS.ecsAgentLog}`);
    await host.sleep(Math.min(intervalMs, left));
  }
}

async function checkAgent(host: Host, options: RegistrationOptions): Promise<Check<RegisteredAgent>> {
  const poll = await pollAgentMetadata(host, options.introspectionUrl);
  const waited = formatDuration(options.timeoutMs);
  if (!poll.answered) {
    return {
      waiting:
        `the ECS agent did not answer at ${options.introspectionUrl} within ${waited} (${poll.reason}): ` +
        'it is probably not running; check "systemctl status ecs" (the unit is amazon-ecs on SLES) ' +
        'and "journalctl -u ecs"',
    };
  }
  const { metadata } = poll;
  const reported = clusterNameOf(metadata.cluster);
  // Waited out like the rest: just after a restart the previous agent process may still answer.
  if (reported !== options.cluster) {
    return {
      waiting:
        `the ECS agent registered in cluster "${reported}", not "${options.cluster}": either stale agent state in ` +
        `${PATHS.ecsAgentData} from another cluster (clear it with "ecs-host-agent apply --reset-agent-state") ` +
        `or the agent did not read ECS_CLUSTER from ${PATHS.ecsConfig}`,
    };
  }
  if (metadata.containerInstanceArn === null) {
    return {
      waiting:
        `the ECS agent answers but has not registered in cluster "${options.cluster}" within ${waited}: ` +
        'the instance role may lack ecs:RegisterContainerInstance, the agent may get no credentials ' +
        '(no instance profile, or an IMDS hop limit of 1 while the agent runs in a container: set it to 2), ' +
        `or cluster "${options.cluster}" does not exist (only "default" is created automatically)`,
    };
  }
  return { value: { ...metadata, containerInstanceArn: metadata.containerInstanceArn } };
}

async function checkInstance(ecs: Ecs, options: RegistrationOptions, arn: string): Promise<Check<InstanceState>> {
  const reply = await describe(ecs, options.cluster, arn);
  const instance = reply.containerInstances?.find((candidate) => candidate.containerInstanceArn === arn);
  if (!instance) {
    // Only one ARN was asked for, so any failure is about it (its ARN may be written in the other form).
    const failure = reply.failures?.[0];
    if (!failure)
      throw new RegistrationError(`ECS DescribeContainerInstances returned neither ${arn} nor a failure for it`);
    return {
      waiting:
        `ECS does not know container instance ${arn} in cluster "${options.cluster}" ` +
        `(${failure.reason ?? 'no reason given'}): ` +
        'the agent holds a stale registration; clear it with "ecs-host-agent apply --reset-agent-state"',
    };
  }
  if (typeof instance.status !== 'string' || typeof instance.agentConnected !== 'boolean') {
    throw new RegistrationError(`ECS DescribeContainerInstances returned ${arn} without a status or agentConnected`);
  }
  if (instance.status !== 'ACTIVE') {
    return {
      waiting:
        `container instance ${arn} is ${instance.status}, not ACTIVE (DRAINING: set it ACTIVE again ` +
        `once maintenance is over; ` +
        'INACTIVE: it was deregistered, clear the agent state with "ecs-host-agent apply --reset-agent-state")',
    };
  }
  if (!instance.agentConnected) {
    return {
      waiting:
        `ECS reports the agent of container instance ${arn} as not connected (agentConnected false): ` +
        `the agent cannot hold ` +
        `its connection to the ECS endpoints; check outbound HTTPS, HTTP_PROXY/NO_PROXY in ` +
        `${PATHS.ecsConfig} and VPC endpoints`,
    };
  }
  return { value: { status: instance.status, agentConnected: instance.agentConnected } };
}

async function describe(ecs: Ecs, cluster: string, arn: string) {
  try {
    return await ecs.describeContainerInstances({ cluster, containerInstances: [arn] });
  } catch (error) {
    if (isAwsError(error, 'ClusterNotFoundException')) {
      throw new RegistrationError(
        `ECS has no cluster "${cluster}" (only "default" is created automatically): create it, ` +
          `e.g. "aws ecs create-cluster --cluster-name ${cluster}"; see ${PATHS.ecsAgentLog}`,
      );
    }
    throw new RegistrationError(
      `ECS DescribeContainerInstances failed: ${messageOf(error)} (the caller needs ` +
        `ecs:DescribeContainerInstances on cluster "${cluster}")`,
    );
  }
}

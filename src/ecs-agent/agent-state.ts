import { posix } from 'node:path';

import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import { CLUSTER_ARN, clusterNameOf, clusterOfContainerInstanceArn, CONTAINER_INSTANCE_ARN } from './arn.ts';

/**
 * What the ECS agent remembers in /var/lib/ecs/data. The agent reuses the
 * registration it finds there and refuses to start when its saved cluster
 * differs from ECS_CLUSTER, so state left from another cluster, or baked into
 * an image that many instances boot from, breaks registration
 * (aws/amazon-ecs-agent#139, #858, #2738).
 *
 * Newer agents keep a BoltDB file, agent.db, whose "metadata" bucket stores
 * JSON-encoded values right after their keys ("cluster-name" then "\"prod\"");
 * it is scanned as bytes rather than parsed. Older agents keep
 * ecs_agent_data.json: {"Data": {"Cluster": …, "ContainerInstanceArn": …}}.
 */
export interface AgentState {
  /** Everything in the state directory. */
  readonly files: readonly string[];
  /** The cluster the state belongs to, a name or an ARN, when it could be found. */
  readonly cluster: string | null;
  readonly containerInstanceArn: string | null;
}

const BOLT_FILE = 'agent.db';
const JSON_FILE = 'ecs_agent_data.json';
const RESET_COMMAND = 'ecs-host-agent apply --reset-agent-state';

type Found = Pick<AgentState, 'cluster' | 'containerInstanceArn'>;
const NOTHING_FOUND: Found = { cluster: null, containerInstanceArn: null };

/** The agent's saved state, or null when the directory is missing or empty. */
export async function readAgentState(host: Host): Promise<AgentState | null> {
  const dir = PATHS.ecsAgentData;
  if ((await host.stat(dir))?.kind !== 'directory') return null;
  const names = await host.readdir(dir);
  if (names.length === 0) return null;
  const fromBolt = names.includes(BOLT_FILE)
    ? scanBolt(await host.readBytes(posix.join(dir, BOLT_FILE)))
    : NOTHING_FOUND;
  const fromJson = names.includes(JSON_FILE)
    ? parseStateJson(await host.readText(posix.join(dir, JSON_FILE)))
    : NOTHING_FOUND;
  return {
    files: names.map((name) => posix.join(dir, name)),
    cluster: fromBolt.cluster ?? fromJson.cluster,
    containerInstanceArn: fromBolt.containerInstanceArn ?? fromJson.containerInstanceArn,
  };
}

// The value is JSON-encoded, so the name or ARN stands between quotes right after the key.
const BOLT_CLUSTER = /cluster-name"([A-Za-z0-9_:/-]{1,320})"/;

/** Finds the cluster and container instance ARN in a BoltDB file's bytes. */
export function scanBolt(bytes: Uint8Array): Found {
  // latin1 maps every byte to one character, so binary pages cannot hide or split the ASCII values.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const arn = CONTAINER_INSTANCE_ARN.exec(text)?.[0] ?? null;
  const cluster =
    BOLT_CLUSTER.exec(text)?.[1] ?? (arn && clusterOfContainerInstanceArn(arn)) ?? CLUSTER_ARN.exec(text)?.[0] ?? null;
  return { cluster, containerInstanceArn: arn };
}

/** An unreadable file still counts as state; it just names no cluster. */
function parseStateJson(text: string): Found {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return NOTHING_FOUND;
  }
  const data = (parsed as { Data?: unknown } | null)?.Data;
  if (typeof data !== 'object' || data === null) return NOTHING_FOUND;
  const { Cluster, ContainerInstanceArn } = data as Record<string, unknown>;
  return {
    cluster: typeof Cluster === 'string' && Cluster !== '' ? Cluster : null,
    containerInstanceArn:
      typeof ContainerInstanceArn === 'string' && ContainerInstanceArn !== '' ? ContainerInstanceArn : null,
  };
}

/** What is wrong with the saved state and how to fix it, or null when it is fine to keep. */
export function staleStateProblem(
  state: AgentState | null,
  configuredCluster: string,
  options: { readonly imageRoot: boolean },
): string | null {
  if (state === null) return null;
  const held = describeHeld(state);
  if (options.imageRoot) {
    return (
      `${PATHS.ecsAgentData} in the image holds ECS agent state${held}: every instance booted from the image would ` +
      `reuse that registration and fail to register itself; clear it with "${RESET_COMMAND} --root DIR"`
    );
  }
  if (state.cluster !== null && clusterNameOf(state.cluster) !== configuredCluster) {
    return (
      `${PATHS.ecsAgentData} holds ECS agent state${held}, but ECS_CLUSTER is ` +
      `"${configuredCluster}": the agent will not ` +
      `register in "${configuredCluster}" with it; stop the agent and clear the state with "${RESET_COMMAND}"`
    );
  }
  return null;
}

function describeHeld(state: AgentState): string {
  const parts = [
    state.cluster === null ? null : `of cluster "${clusterNameOf(state.cluster)}"`,
    state.containerInstanceArn === null ? null : `for container instance ${state.containerInstanceArn}`,
  ].filter((part) => part !== null);
  return ` (${[...parts, `in ${state.files.map((file) => posix.basename(file)).join(', ')}`].join(' ')})`;
}

import { AgentError, messageOf } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import { isContainerInstanceArn } from './arn.ts';

/**
 * Client of the ECS agent's introspection API. The agent opens it only while
 * running, so a refused connection or a timeout means "not answering yet",
 * which callers poll through; a reply that is not the agent's metadata is an
 * IntrospectionError, because waiting longer will not change what answers there.
 */
export interface AgentMetadata {
  /** The cluster as the agent was configured with it: a name or an ARN. */
  readonly cluster: string;
  /** Null while the agent has not registered the instance yet. */
  readonly containerInstanceArn: string | null;
  readonly version: string;
}

export type MetadataPoll =
  { readonly answered: true; readonly metadata: AgentMetadata } | { readonly answered: false; readonly reason: string };

export class IntrospectionError extends AgentError {}

const REQUEST_TIMEOUT_MS = 2000;

export async function pollAgentMetadata(
  host: Host,
  baseUrl: string,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<MetadataPoll> {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/metadata`;
  let response;
  try {
    response = await host.http({ method: 'GET', url, timeoutMs });
  } catch (error) {
    return { answered: false, reason: reasonOf(error) };
  }
  // A 5xx comes from an agent that is up but busy starting; anything else unexpected is not the agent.
  if (response.status >= 500) return { answered: false, reason: `HTTP ${response.status}` };
  if (response.status !== 200)
    throw new IntrospectionError(
      `${url} answered HTTP ${response.status}: is INTROSPECTION_URL the ECS agent's introspection API?`,
    );
  return { answered: true, metadata: parseMetadata(url, Buffer.from(response.body).toString('utf8')) };
}

/** fetch reports only "fetch failed"; its cause says why (ECONNREFUSED …). */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? messageOf(error) : `${messageOf(error)}: ${messageOf(cause)}`;
}

function parseMetadata(url: string, text: string): AgentMetadata {
  let reply: unknown;
  try {
    reply = JSON.parse(text);
  } catch {
    throw malformed(url, 'is not JSON', text);
  }
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply))
    throw malformed(url, 'is not a JSON object', text);
  const { Cluster, ContainerInstanceArn, Version } = reply as Record<string, unknown>;
  if (typeof Cluster !== 'string' || Cluster === '') throw malformed(url, 'has no Cluster string', text);
  if (typeof Version !== 'string') throw malformed(url, 'has no Version string', text);
  if (ContainerInstanceArn === undefined || ContainerInstanceArn === null || ContainerInstanceArn === '') {
    return { cluster: Cluster, containerInstanceArn: null, version: Version };
  }
  if (typeof ContainerInstanceArn !== 'string' || !isContainerInstanceArn(ContainerInstanceArn)) {
    throw malformed(url, 'has a ContainerInstanceArn that is not a container instance ARN', text);
  }
  return { cluster: Cluster, containerInstanceArn: ContainerInstanceArn, version: Version };
}

function malformed(url: string, problem: string, text: string): IntrospectionError {
  return new IntrospectionError(`the reply of ${url} ${problem}: ${JSON.stringify(text.slice(0, 200))}`);
}

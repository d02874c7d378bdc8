import { pollAgentMetadata } from '../ecs-agent/introspection.ts';
import type { Host } from '../host/host.ts';
import type { Ecs } from './sample.ts';

/**
 * The ECS agent as its introspection API sees it: answering, registered as
 * which container instance, and how many tasks it runs (`/v1/tasks`).
 * The agent being away is a figure (agentAnswering false), not an error.
 */
const REQUEST_TIMEOUT_MS = 1000;
const MAX_REPLY_BYTES = 8 * 2 ** 20;

export async function readEcs(host: Host, introspectionUrl: string): Promise<Ecs> {
  const poll = await pollAgentMetadata(host, introspectionUrl, REQUEST_TIMEOUT_MS);
  if (!poll.answered) return { agentAnswering: false, cluster: null, containerInstanceArn: null, runningTasks: null };
  return {
    agentAnswering: true,
    cluster: poll.metadata.cluster,
    containerInstanceArn: poll.metadata.containerInstanceArn,
    runningTasks: await runningTasks(host, introspectionUrl),
  };
}

async function runningTasks(host: Host, introspectionUrl: string): Promise<number> {
  const url = `${introspectionUrl.replace(/\/+$/, '')}/v1/tasks`;
  const response = await host.http({ url, timeoutMs: REQUEST_TIMEOUT_MS, maxResponseBytes: MAX_REPLY_BYTES });
  if (response.status !== 200) throw new Error(`${url} answered HTTP ${response.status}`);
  const reply = JSON.parse(Buffer.from(response.body).toString('utf8')) as { Tasks?: unknown };
  if (!Array.isArray(reply.Tasks)) throw new Error(`${url} answered without a Tasks list`);
  return reply.Tasks.filter((task) => (task as { KnownStatus?: unknown }).KnownStatus === 'RUNNING').length;
}

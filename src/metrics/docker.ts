import type { Host } from '../host/host.ts';
import type { ContainerStats, Docker } from './sample.ts';

/**
 * Container figures from the Docker API on its unix socket (never the docker
 * CLI: a process per sample). One `stats?stream=false&one-shot=true` request
 * per running container: one-shot skips the second stats cycle Docker
 * otherwise waits for to fill precpu_stats; the CPU percentage is taken here
 * against the previous sample instead. The API rather than cgroup files: it
 * works the same on cgroup v1 and v2, with either cgroup driver and under the
 * ECS agent's own cgroup parents.
 */
const REQUEST_TIMEOUT_MS = 3000;
const MAX_REPLY_BYTES = 4 * 2 ** 20;
/** Parallel stats requests: a host with many containers is not answered one by one, nor all at once. */
const CONCURRENCY = 4;
const TASK_ARN_LABEL = 'com.amazonaws.ecs.task-arn';

interface CpuReading {
  readonly usageNs: number;
  readonly atMs: number;
}

export class DockerCollector {
  readonly #host: Host;
  readonly #socket: string;
  #previous = new Map<string, CpuReading>();

  constructor(host: Host, socket: string) {
    this.#host = host;
    this.#socket = socket;
  }

  /** Null when no daemon listens on the socket (Docker not installed or stopped). */
  async read(): Promise<Docker | null> {
    if ((await this.#host.stat(this.#socket)) === null) return null;
    let list: unknown;
    try {
      list = await this.#get('/containers/json');
    } catch (error) {
      if (isConnectionRefused(error)) return null;
      throw error;
    }
    if (!Array.isArray(list))
      throw new Error('the Docker API answered /containers/json with something other than a list');
    const containers = await mapLimited(list, CONCURRENCY, (entry) => this.#container(entry));
    this.#previous = new Map(containers.map((c) => [c.stats.id, c.reading]));
    return { running: containers.length, containers: containers.map((c) => c.stats) };
  }

  async #container(entry: unknown): Promise<{ stats: ContainerStats; reading: CpuReading }> {
    const summary = entry as { Id?: unknown; Names?: unknown; Image?: unknown; Labels?: Record<string, unknown> };
    if (typeof summary.Id !== 'string' || !/^[0-9a-f]{12,64}$/.test(summary.Id))
      throw new Error('the Docker API listed a container without a valid Id');
    const stats = (await this.#get(`/containers/${summary.Id}/stats?stream=false&one-shot=true`)) as DockerStats;
    const usageNs = numberAt(stats.cpu_stats?.cpu_usage?.total_usage);
    const reading = { usageNs, atMs: this.#host.now().getTime() };
    const previous = this.#previous.get(summary.Id);
    const elapsedMs = previous ? reading.atMs - previous.atMs : 0;
    const memory = stats.memory_stats ?? {};
    const inactive = numberAt(memory.stats?.inactive_file ?? memory.stats?.total_inactive_file);
    const name =
      Array.isArray(summary.Names) && typeof summary.Names[0] === 'string'
        ? summary.Names[0].replace(/^\//, '')
        : summary.Id.slice(0, 12);
    const taskArn = summary.Labels?.[TASK_ARN_LABEL];
    return {
      reading,
      stats: {
        id: summary.Id,
        name,
        image: typeof summary.Image === 'string' ? summary.Image : '',
        taskArn: typeof taskArn === 'string' ? taskArn : null,
        cpuSeconds: usageNs / 1e9,
        cpuPercent:
          previous && elapsedMs > 0
            ? Math.round(((usageNs - previous.usageNs) / 1e6 / elapsedMs) * 10_000) / 100
            : null,
        memoryBytes: Math.max(0, numberAt(memory.usage) - inactive),
        memoryLimitBytes: numberAt(memory.limit),
      },
    };
  }

  async #get(path: string): Promise<unknown> {
    const response = await this.#host.http({
      url: `http://docker${path}`,
      socketPath: this.#socket,
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxResponseBytes: MAX_REPLY_BYTES,
    });
    const text = Buffer.from(response.body).toString('utf8');
    if (response.status !== 200)
      throw new Error(`the Docker API answered ${path} with HTTP ${response.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }
}

interface DockerStats {
  readonly cpu_stats?: { readonly cpu_usage?: { readonly total_usage?: unknown } };
  readonly memory_stats?: {
    readonly usage?: unknown;
    readonly limit?: unknown;
    readonly stats?: { readonly inactive_file?: unknown; readonly total_inactive_file?: unknown };
  };
}

function numberAt(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

function isConnectionRefused(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNREFUSED' || code === 'ENOENT';
}

async function mapLimited<T, R>(items: readonly T[], limit: number, map: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await map(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

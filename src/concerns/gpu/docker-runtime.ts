import { AgentError } from '../../core/errors.ts';
import { type Host, readTextIfExists } from '../../host/host.ts';

/**
 * The ECS agent starts a container that was given GPUs with the Docker
 * runtime named by ECS_NVIDIA_RUNTIME, "nvidia" by default (HostConfig.Runtime):
 * Docker must know that runtime, from "runtimes" in daemon.json, and has to be
 * restarted to load it.
 */
export const NVIDIA_RUNTIME = 'nvidia';
export const DAEMON_JSON = '/etc/docker/daemon.json';

export class GpuDaemonJsonError extends AgentError {}

/** Whether daemon.json registers the nvidia runtime; a file that is not a JSON object is an error, never rewritten. */
export async function daemonJsonHasNvidiaRuntime(host: Host): Promise<boolean> {
  const text = await readTextIfExists(host, DAEMON_JSON);
  if (text === null || text.trim() === '') return false;
  let settings: unknown;
  try {
    settings = JSON.parse(text);
  } catch (error) {
    throw new GpuDaemonJsonError(
      `${DAEMON_JSON} is not valid JSON (${(error as Error).message}); fix it before the nvidia runtime is added`,
    );
  }
  if (!isObject(settings))
    throw new GpuDaemonJsonError(`${DAEMON_JSON} must hold a JSON object; fix it before the nvidia runtime is added`);
  const runtimes = settings.runtimes;
  return isObject(runtimes) && NVIDIA_RUNTIME in runtimes;
}

/** The runtimes the running Docker knows, or null when no daemon answers. */
export async function runningDockerRuntimes(host: Host): Promise<string[] | null> {
  try {
    const result = await host.exec('docker', ['info', '--format', '{{json .Runtimes}}'], {
      timeoutMs: 15_000,
      target: 'local',
    });
    if (result.exitCode !== 0) return null;
    const runtimes: unknown = JSON.parse(result.stdout);
    return isObject(runtimes) ? Object.keys(runtimes).sort() : null;
  } catch {
    return null; // no docker client, or an answer that is not the JSON asked for
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

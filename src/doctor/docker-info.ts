import { AgentError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';

/** What the Docker daemon says about itself over its API socket (`docker info`). */
export interface DockerInfo {
  readonly serverVersion: string;
  readonly driver: string;
  readonly rootDir: string;
}

export async function readDockerInfo(host: Host, socket: string, timeoutMs: number): Promise<DockerInfo> {
  const result = await host.exec('docker', ['-H', `unix://${socket}`, 'info', '--format', '{{json .}}'], {
    target: 'local',
    timeoutMs,
  });
  const output = (result.stderr || result.stdout).trim().split('\n').at(-1) ?? '';
  if (result.exitCode !== 0) throw new AgentError(`docker info on ${socket} exited with ${result.exitCode}: ${output}`);
  let info: Record<string, unknown>;
  try {
    info = JSON.parse(result.stdout) as Record<string, unknown>;
  } catch {
    throw new AgentError(`docker info on ${socket} printed no JSON: ${JSON.stringify(result.stdout.slice(0, 120))}`);
  }
  const { ServerVersion, Driver, DockerRootDir } = info;
  if (typeof ServerVersion !== 'string' || ServerVersion === '' || typeof Driver !== 'string') {
    throw new AgentError(
      `the Docker daemon on ${socket} did not answer: ${JSON.stringify(info.ServerErrors ?? output)}`,
    );
  }
  return {
    serverVersion: ServerVersion,
    driver: Driver,
    rootDir: typeof DockerRootDir === 'string' ? DockerRootDir : '/var/lib/docker',
  };
}

import { execChecked, type Host } from '../host/host.ts';

/** Amazon Linux 2 (image roots only) ships Docker and ecs-init as amazon-linux-extras topics, not plain packages. */
const INSTALL_TIMEOUT_MS = 30 * 60_000;

export function describeExtrasInstall(topic: string): string {
  return `amazon-linux-extras install -y ${topic}`;
}

export async function installExtrasTopic(host: Host, topic: string): Promise<void> {
  await execChecked(host, 'amazon-linux-extras', ['install', '-y', topic], { timeoutMs: INSTALL_TIMEOUT_MS });
}

import type { Command } from '../core/command.ts';

/** Amazon Linux 2 (image roots only) ships Docker and ecs-init as amazon-linux-extras topics, not plain packages. */
const INSTALL_TIMEOUT_MS = 30 * 60_000;

export function extrasInstallCommand(topic: string): Command {
  return { file: 'amazon-linux-extras', args: ['install', '-y', topic], timeoutMs: INSTALL_TIMEOUT_MS };
}

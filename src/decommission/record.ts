import { posix } from 'node:path';

import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';
import { isContainerInstanceArn } from '../ecs-agent/arn.ts';
import type { InstanceRef } from '../ecs-agent/drain.ts';

/**
 * Which container instance a decommission is removing, written before the
 * first step: the agent state that names it is cleared on the way, so a run
 * interrupted after that finishes the same instance when run again.
 */
export const RECORD = posix.join(PATHS.agentState, 'decommission.json');

export async function readRecord(host: Host): Promise<InstanceRef | null> {
  const text = await readTextIfExists(host, RECORD);
  if (text === null) return null;
  try {
    const { cluster, containerInstanceArn } = JSON.parse(text) as Record<string, unknown>;
    if (
      typeof cluster === 'string' &&
      typeof containerInstanceArn === 'string' &&
      isContainerInstanceArn(containerInstanceArn)
    )
      return { cluster, containerInstanceArn };
  } catch {
    // A torn or foreign file names nothing; the instance is looked up again.
  }
  return null;
}

export async function writeRecord(host: Host, instance: InstanceRef): Promise<void> {
  await host.mkdir(PATHS.agentState);
  await host.writeFileAtomic(RECORD, `${JSON.stringify({ ...instance, startedAt: host.now().toISOString() })}\n`, {
    mode: 0o644,
  });
}

export function removeRecord(host: Host): Promise<void> {
  return host.rm(RECORD);
}

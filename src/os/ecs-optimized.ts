import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';

/**
 * Evidence that the system is an Amazon ECS-optimized AMI, which already ships
 * and manages ecs-init: this agent would fight it. Files first (they also work
 * on an image root); the authoritative online check is in aws/optimized-ami.ts.
 */
const BANNERS = ['/etc/motd.d/31-banner', '/etc/update-motd.d/29-ecs-banner-begin'];
const CLOUD_CONFIG = '/etc/cloud/cloud.cfg.d/90_ecs.cfg';

export async function findOptimizedAmiMarkers(host: Host, ecsInitInstalled: boolean): Promise<string[]> {
  const evidence: string[] = [];
  for (const path of BANNERS) {
    const text = await readTextIfExists(host, path);
    if (text !== null && /ECS[\s-]*Optimized/i.test(text)) evidence.push(`${path} says "ECS Optimized"`);
  }
  if ((await host.stat(CLOUD_CONFIG)) !== null) evidence.push(`${CLOUD_CONFIG} exists (ECS cloud-init config)`);
  if (ecsInitInstalled && !(await installedByThisAgent(host)) && !(await agentHasRun(host))) {
    evidence.push(
      `ecs-init is installed, not by this agent, and the ECS agent has never run (${PATHS.ecsAgentData} empty)`,
    );
  }
  return evidence;
}

async function installedByThisAgent(host: Host): Promise<boolean> {
  return (await host.stat(PATHS.ecsInitInstalledMarker)) !== null;
}

async function agentHasRun(host: Host): Promise<boolean> {
  return (
    (await host.stat(PATHS.ecsAgentData))?.kind === 'directory' && (await host.readdir(PATHS.ecsAgentData)).length > 0
  );
}

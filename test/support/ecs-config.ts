import { ecsConfigConcern } from '../../src/concerns/ecs-config/index.ts';
import type { Action, ConcernContext } from '../../src/core/concern.ts';
import { type Config, loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { applyAll, type ConcernPlan, planAll } from '../../src/core/runner.ts';
import type { Host } from '../../src/host/host.ts';
import { gatherOsFacts, type OsFacts } from '../../src/os/facts.ts';
import { fakeHostFor } from './fixtures.ts';

/** Building blocks for the ecs-config tests: config from an agent.env text, OS facts, the runner. */

export const AGENT_ENV = '/etc/ecs-host-agent/agent.env';

/** Config as the loader builds it from an agent.env text (and the environment). */
export function configFrom(agentEnv: string, env: Record<string, string> = {}): Config {
  return loadConfig({ file: AGENT_ENV, fileText: agentEnv, env, flags: {} });
}

/** Real OS facts of a Debian 12 fixture, with the GPU count a test needs (null: an image root). */
export async function osFacts(nvidiaGpus: number | null = 0): Promise<OsFacts> {
  return { ...(await gatherOsFacts(fakeHostFor('debian-12'))), nvidiaGpus };
}

/** A dpkg database naming the systemd package, so the concern models that systemd version. */
export function dpkgWithSystemd(version: string): string {
  return `Package: systemd\nStatus: install ok installed\nVersion: ${version}\n`;
}

export async function contextFor(host: Host, agentEnv: string, nvidiaGpus: number | null = 0): Promise<ConcernContext> {
  return {
    host,
    config: configFrom(agentEnv),
    os: await osFacts(nvidiaGpus),
    logger: silentLogger,
    resetAgentState: false,
  };
}

/** The ecs-config concern's plan, through the real runner. */
async function planThroughRunner(context: ConcernContext): Promise<ConcernPlan> {
  const [plan] = await planAll([ecsConfigConcern], context);
  if (!plan || plan.error) throw new Error(plan?.error ?? 'ecs-config is not enabled');
  return plan;
}

export async function planFor(context: ConcernContext): Promise<readonly Action[]> {
  return (await planThroughRunner(context)).actions;
}

export async function warningsFor(context: ConcernContext): Promise<readonly string[]> {
  return (await planThroughRunner(context)).warnings;
}

/** Plans and applies through the real runner; fails on any step that failed. */
export async function converge(context: ConcernContext): Promise<void> {
  const [outcome] = await applyAll([ecsConfigConcern], context);
  if (outcome?.error) throw new Error(outcome.error);
}

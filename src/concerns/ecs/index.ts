import type { Action, Concern, ConcernContext } from '../../core/concern.ts';
import { PATHS } from '../../core/paths.ts';
import { readAgentState, staleStateProblem } from '../../ecs-agent/agent-state.ts';
import { describeExtrasInstall, installExtrasTopic } from '../../pkg/amazon-linux-extras.ts';
import { firstInstalled, packageManagerFor } from '../../pkg/package-manager.ts';
import { describeStart, needsStart, startUnit, stopUnit, type UnitState, unitState } from '../systemd-unit.ts';
import { ECS_INIT_PLATFORMS, type EcsInitPlatform } from './platform.ts';
import { debSource, describeSignedDebInstall, downloadRegion, installSignedDeb } from './signed-deb.ts';

/**
 * ecs-init, the launcher of the ECS agent: installed the distribution's way,
 * enabled and started. Agent state that would register the instance in the
 * wrong cluster is reported, and cleared on request; an image being baked is
 * always left without agent state so each instance registers fresh.
 */
export interface EcsFacts {
  readonly installed: boolean;
  readonly unit: UnitState | null;
  readonly agentStateFiles: number;
  readonly staleState: string | null;
}

export type EcsAction = Action & { readonly kind: 'reset-state' | 'install' | 'start' };

export const ecsConcern: Concern<EcsFacts, EcsAction> = {
  name: 'ecs',
  enabled: () => true,
  async gather(context) {
    const { host, os, config } = context;
    const platform = platformOf(context);
    const installed = (await firstInstalled(packageManagerFor(managerOf(context), host), [platform.source.name])) !== null;
    const state = await readAgentState(host);
    return {
      installed,
      unit: installed ? await unitState(host, platform.unit, os) : null,
      agentStateFiles: state?.files.length ?? 0,
      staleState: staleStateProblem(state, config.ECS_CLUSTER, { imageRoot: os.root !== '/' }),
    };
  },
  plan(facts, context) {
    const platform = platformOf(context);
    const actions: EcsAction[] = [];
    if (facts.agentStateFiles > 0 && (context.resetAgentState || context.os.root !== '/')) {
      actions.push({ kind: 'reset-state', summary: `stop ${platform.unit} and clear the agent state in ${PATHS.ecsAgentData}` });
    }
    if (!facts.installed) actions.push({ kind: 'install', summary: `install ecs-init (${platform.source.name})`, details: installDetails(context, platform) });
    if (!facts.unit || needsStart(facts.unit)) actions.push({ kind: 'start', summary: describeStart(platform.unit, context.os) });
    return actions;
  },
  warnings(facts, context) {
    return facts.staleState && !context.resetAgentState && context.os.root === '/' ? [facts.staleState] : [];
  },
  async apply(action, context) {
    const platform = platformOf(context);
    if (action.kind === 'reset-state') return resetAgentState(context, platform);
    if (action.kind === 'install') return install(context, platform);
    return startUnit(context.host, platform.unit, context.os);
  },
};

function managerOf(context: ConcernContext) {
  if (context.os.support.status === 'refused') throw new Error('refused systems are never planned');
  return context.os.support.packageManager;
}

function platformOf(context: ConcernContext): EcsInitPlatform {
  return ECS_INIT_PLATFORMS[managerOf(context)];
}

function installDetails(context: ConcernContext, platform: EcsInitPlatform): string[] {
  const { source } = platform;
  if (source.kind === 'signed-deb') return describeSignedDebInstall(context, debSource(context, context.config.AWS_REGION));
  if (source.kind === 'extras') return [describeExtrasInstall(source.topic)];
  return packageManagerFor(managerOf(context), context.host).describeInstall([source.name]);
}

async function install(context: ConcernContext, platform: EcsInitPlatform): Promise<void> {
  const { source } = platform;
  if (source.kind === 'signed-deb') await installSignedDeb(context, debSource(context, await downloadRegion(context)));
  else if (source.kind === 'package') {
    await packageManagerFor(managerOf(context), context.host, context.logger).install([source.name]);
  }
  else await installExtrasTopic(context.host, source.topic);
  await context.host.mkdir(PATHS.agentState, { mode: 0o755 });
  await context.host.writeFileAtomic(PATHS.ecsInitInstalledMarker, `${context.host.now().toISOString()}\n`);
}

async function resetAgentState(context: ConcernContext, platform: EcsInitPlatform): Promise<void> {
  await stopUnit(context.host, platform.unit, context.os);
  for (const entry of await context.host.readdir(PATHS.ecsAgentData)) {
    await context.host.rm(`${PATHS.ecsAgentData}/${entry}`, { recursive: true });
  }
}

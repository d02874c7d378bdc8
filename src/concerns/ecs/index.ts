import type { Concern, ConcernContext, StepAction } from '../../core/concern.ts';
import { performSteps, type Step, writeStep } from '../../core/step.ts';
import { PATHS } from '../../core/paths.ts';
import { packageManagerOf } from '../../os/facts.ts';
import { readAgentState, staleStateProblem } from '../../ecs-agent/agent-state.ts';
import { extrasInstallCommand } from '../../pkg/amazon-linux-extras.ts';
import { firstInstalled } from '../../pkg/package-manager.ts';
import { needsStart, startUnit, stopUnitCommand, type UnitState, unitState } from '../../os/systemd-unit.ts';
import { ECS_INIT_PLATFORMS, type EcsInitPlatform } from './platform.ts';
import { debSource, installSignedDeb, signedDebSteps } from './signed-deb.ts';

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

export type EcsAction = StepAction<'reset-state' | 'install' | 'start'>;

export const ecsConcern: Concern<EcsFacts, EcsAction> = {
  name: 'ecs',
  enabled: () => true,
  async gather(context) {
    const { host, os, config } = context;
    const platform = platformOf(context);
    const installed = (await firstInstalled(packageManagerOf(context), [platform.source.name])) !== null;
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
      const stop = context.os.systemdRunning ? `stop ${platform.unit} and ` : '';
      const summary = `${stop}clear the agent state in ${PATHS.ecsAgentData}`;
      actions.push({ kind: 'reset-state', summary, steps: resetSteps(context, platform) });
    }
    if (!facts.installed) {
      const summary = `install ecs-init (${platform.source.name})`;
      actions.push({ kind: 'install', summary, steps: installSteps(context, platform) });
    }
    if (!facts.unit || needsStart(facts.unit)) actions.push({ kind: 'start', ...startUnit(platform.unit, context.os) });
    return actions;
  },
  warnings(facts, context) {
    return facts.staleState && !context.resetAgentState && context.os.root === '/' ? [facts.staleState] : [];
  },
  async apply(action, context) {
    // The .deb is downloaded and its signature verified before its steps run.
    const signedDeb = platformOf(context).source.kind === 'signed-deb';
    if (action.kind === 'install' && signedDeb) return installSignedDeb(context, action.steps);
    await performSteps(context.host, action.steps, packageManagerOf(context));
  },
};

function platformOf(context: ConcernContext): EcsInitPlatform {
  return ECS_INIT_PLATFORMS[packageManagerOf(context).name];
}

/** Without systemd running nothing runs ecs-init (an image root): there is nothing to stop. */
function resetSteps(context: ConcernContext, platform: EcsInitPlatform): Step[] {
  const stop: Step[] = context.os.systemdRunning ? [{ run: stopUnitCommand(platform.unit) }] : [];
  return [...stop, { remove: PATHS.ecsAgentData, what: 'entries' }];
}

/** Then a mark that ecs-init came from the agent, so this system is never taken for an ECS-optimized AMI. */
function installSteps(context: ConcernContext, platform: EcsInitPlatform): Step[] {
  const { source } = platform;
  const marker = writeStep(PATHS.ecsInitInstalledMarker, `installed by ecs-host-agent: ${source.name}\n`);
  if (source.kind === 'signed-deb') {
    return [...signedDebSteps(context, debSource(context, context.config.AWS_REGION)), marker];
  }
  if (source.kind === 'extras') return [{ run: extrasInstallCommand(source.topic) }, marker];
  return [{ install: packageManagerOf(context).installCommands([source.name]) }, marker];
}

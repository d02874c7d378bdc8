import type { ConcernContext } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { performSteps } from '../../core/step.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { probeSignature } from '../../block/probe.ts';
import { persistStep, type VolumesAction } from './plan.ts';

/** The only place the volumes concern changes the system: the action's steps. */
export async function applyVolumes(
  action: VolumesAction,
  context: ConcernContext,
  packages: PackageManager,
): Promise<void> {
  const { host } = context;
  if (action.kind === 'persist' && action.uuid === null) {
    // The filesystem an earlier step made: its UUID is read now.
    const uuid = (await probeSignature(host, action.device))?.uuid;
    if (!uuid) throw new AgentError(`${action.device} has no filesystem UUID to mount it by`);
    return performSteps(host, [persistStep(action, uuid)]);
  }
  if (action.kind === 'mount') await host.mkdir(action.mountPoint);
  await performSteps(host, action.steps, packages);
}

import type { Concern, ConcernContext } from '../../core/concern.ts';
import { packageManagerOf } from '../../os/facts.ts';
import { applyVolumes } from './apply.ts';
import { gatherVolumes, type VolumesFacts } from './facts.ts';
import { planVolumes, type VolumesAction } from './plan.ts';

/**
 * Data volumes, as OpsWorks managed them per layer: each EBS
 * volume (by id or device) is formatted only when empty, persisted in fstab
 * by UUID with nofail, and mounted. Under an image root only the mkfs tools
 * are installed; the volumes exist on the booted instance.
 */
export interface VolumesConcernOptions {
  /** Whether the managed system runs here (default: root "/"); tests make a scratch root live. */
  readonly live?: (context: ConcernContext) => boolean;
}

export function createVolumesConcern(options: VolumesConcernOptions = {}): Concern<VolumesFacts, VolumesAction> {
  const live = options.live ?? ((context: ConcernContext) => context.host.root === '/');
  return {
    name: 'volumes',
    enabled: (context) => context.config.VOLUMES.length > 0,
    gather: (context) => gatherVolumes(context, context.config.VOLUMES, packageManagerOf(context), live(context)),
    plan: (facts, context) => planVolumes(facts, (packages) => packageManagerOf(context).installCommands(packages)),
    apply: (action, context) => applyVolumes(action, context, packageManagerOf(context)),
  };
}

export const volumesConcern = createVolumesConcern();

import type { Concern, ConcernContext } from '../../core/concern.ts';
import { packageManagerFor, type PackageManager } from '../../pkg/package-manager.ts';
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
    gather: (context) => gatherVolumes(context, context.config.VOLUMES, packagesOf(context), live(context)),
    plan: (facts, context) => planVolumes(facts, (packages) => packagesOf(context).describeInstall(packages)),
    apply: (action, context) => applyVolumes(action, context, packagesOf(context)),
  };
}

export const volumesConcern = createVolumesConcern();

function packagesOf(context: ConcernContext): PackageManager {
  const { support } = context.os;
  if (support.status === 'refused') throw new Error(`volumes: ${support.reason}`);
  return packageManagerFor(support.packageManager, context.host, context.logger);
}

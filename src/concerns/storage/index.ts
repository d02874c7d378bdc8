import type { Concern, ConcernContext } from '../../core/concern.ts';
import { packageManagerOf } from '../../os/facts.ts';
import { onDisk } from '../../block/run.ts';
import { applyStorage } from './apply.ts';
import { gatherStorage, type StorageFacts } from './facts.ts';
import { planStorage, type StorageAction, type StoragePlanContext } from './plan.ts';
import { type StorageSettings, storageSettings } from './settings.ts';
import { fullnessWarning } from './usage.ts';

/**
 * Docker's image store on Btrfs (as SUSE's ecs images had it): a thin sparse file loop-mounted on
 * /var/lib/docker, or a dedicated block device (EBS).
 *
 * Only a running system gets a store: formatting and mounting under an image
 * root would act on the build machine, so there the concern installs the
 * Btrfs tools and leaves the rest to the agent on the booted instance.
 */
export interface StorageConcernOptions {
  /**
   * Whether the managed system runs here. Default: only when the root is "/".
   * Tests set it to make a scratch root a live system whose file, mounts and
   * config all live below that root.
   */
  readonly live?: (context: ConcernContext) => boolean;
}

const liveAtRootOnly = (context: ConcernContext): boolean => context.host.root === '/';

export function createStorageConcern(options: StorageConcernOptions = {}): Concern<StorageFacts, StorageAction> {
  const live = options.live ?? liveAtRootOnly;
  return {
    name: 'storage',
    enabled: (context) => storageSettings(context.config) !== null,
    gather: (context) => gatherStorage(context, settingsOf(context), packageManagerOf(context), live(context)),
    plan: (facts, context) => planStorage(facts, planContext(context)),
    warnings: (facts) => {
      const warning =
        facts.usedPercent === null ? null : fullnessWarning(facts.usedPercent, facts.settings.warnPercent);
      return warning === null ? [] : [warning];
    },
    apply: (action, context) => applyStorage(action, context, packageManagerOf(context)),
  };
}

export const storageConcern = createStorageConcern();

function planContext(context: ConcernContext): StoragePlanContext {
  return {
    installCommands: (packages) => packageManagerOf(context).installCommands(packages),
    onDisk: (path) => onDisk(context.host, path),
    systemdRunning: context.os.systemdRunning === true,
  };
}

function settingsOf(context: ConcernContext): StorageSettings {
  const settings = storageSettings(context.config);
  if (settings === null) throw new Error('storage: STORAGE_MODE=none, the concern is disabled');
  return settings;
}

import type { ConcernContext } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { reportedDriver } from './docker-service.ts';
import { gatherStore, type StoreFacts } from './facts.ts';
import { STORE, type StorageMode, type StorageSettings } from './settings.ts';
import { type BtrfsUsage, fullnessWarning, readUsage, usedPercent } from './usage.ts';

/** What `storage status` reports, and where the metrics concern reads the store's fill level. */
export interface StorageStatus {
  readonly mode: StorageMode;
  readonly backing: string;
  /** False for a backing file apply has not created yet. */
  readonly backingExists: boolean;
  /** Apparent size of the file or size of the device, in bytes. */
  readonly backingSize: number;
  /** File mode: bytes the sparse file really takes. */
  readonly backingAllocated: number | null;
  readonly mountPoint: string;
  readonly mounted: boolean;
  /** Figures of the mounted filesystem; null when it is not mounted. */
  readonly usage: (BtrfsUsage & { readonly usedPercent: number }) | null;
  readonly warnPercent: number;
  /** Set when the store is fuller than STORAGE_WARN_PERCENT. */
  readonly warning: string | null;
  /** The storage driver the running Docker reports; null when no daemon answers. */
  readonly dockerDriver: string | null;
}

export async function storageStatus(context: ConcernContext, settings: StorageSettings): Promise<StorageStatus> {
  const store = await gatherStore(context, settings);
  const usage = store.mountedFromBacking ? await readUsage(context.host) : null;
  const percent = usage && usedPercent(usage);
  return {
    mode: settings.mode,
    backing: store.backing.name,
    backingExists: store.backing.exists,
    backingSize: store.backing.size,
    backingAllocated: store.backing.allocated,
    mountPoint: STORE.mountPoint,
    mounted: store.mountedFromBacking,
    usage: usage && { ...usage, usedPercent: percent as number },
    warnPercent: settings.warnPercent,
    warning: percent === null ? null : fullnessWarning(percent, settings.warnPercent),
    dockerDriver: await reportedDriver(context.host),
  };
}

/** The store as mounted from its backing; an error when it is not (apply first). */
export async function mountedStore(context: ConcernContext, settings: StorageSettings): Promise<StoreFacts> {
  const store = await gatherStore(context, settings);
  if (!store.mountedFromBacking)
    throw new AgentError(
      `the Btrfs store ${store.backing.name} is not mounted on ${STORE.mountPoint}; run apply first`,
    );
  return store;
}

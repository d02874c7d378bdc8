import type { ConcernContext } from '../../core/concern.ts';
import { UsageError } from '../../core/errors.ts';
import { onDisk, runLocal } from '../../block/run.ts';
import { STORE, type StorageSettings } from './settings.ts';
import { mountedStore } from './status.ts';
import { readUsage } from './usage.ts';

/**
 * Grows the mounted store online. File mode: the file is extended (still
 * thin), the loop device told its new size, then Btrfs takes the space. Device
 * mode: the EBS volume was enlarged already; Btrfs takes the new space.
 * Shrinking is refused: Btrfs could shrink, but a loop file cut short would
 * lose data if anything went wrong in between.
 */
export interface GrowResult {
  readonly before: number;
  readonly after: number;
}

export async function growStore(
  context: ConcernContext,
  settings: StorageSettings,
  size: number | null,
): Promise<GrowResult> {
  const { host } = context;
  const store = await mountedStore(context, settings);
  const before = (await readUsage(host)).deviceSize;
  if (store.backing.kind === 'file') {
    if (size === null) throw new UsageError('storage grow: --size is required for STORAGE_MODE=btrfs-file');
    if (size < store.backing.size) {
      throw new UsageError(
        `storage grow: --size ${size} is smaller than ${store.backing.name} ` +
          `(${store.backing.size} bytes); shrinking is refused`,
      );
    }
    await runLocal(host, 'truncate', ['--size', String(size), '--', store.backing.source]);
    await runLocal(host, 'losetup', ['--set-capacity', store.mount!.source]);
  } else if (size !== null) {
    throw new UsageError(
      'storage grow: --size applies to STORAGE_MODE=btrfs-file; for a device, ' +
        'enlarge the EBS volume, then run storage grow',
    );
  }
  await runLocal(host, 'btrfs', ['filesystem', 'resize', '--', 'max', onDisk(host, STORE.mountPoint)]);
  return { before, after: (await readUsage(host)).deviceSize };
}

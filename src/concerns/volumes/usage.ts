import type { Config } from '../../core/config/load.ts';
import type { Host } from '../../host/host.ts';
import { mountAt } from '../block/probe.ts';
import { onDisk } from '../block/run.ts';
import { type DiskUsage, diskUsage } from '../block/usage.ts';

/** How full each configured volume is, for metrics; a volume that is not mounted (nofail at boot) is reported as such. */
export type VolumeUsage = (DiskUsage & { readonly mounted: true }) | { readonly path: string; readonly mounted: false };

export async function volumeUsage(host: Host, config: Config): Promise<VolumeUsage[]> {
  return Promise.all(
    config.VOLUMES.map(async ({ mountPoint }): Promise<VolumeUsage> => {
      if ((await mountAt(host, onDisk(host, mountPoint))) === null) return { path: mountPoint, mounted: false };
      return { ...(await diskUsage(host, mountPoint)), mounted: true };
    }),
  );
}

import { isVolumeId } from '../core/config/volumes.ts';
import { AgentError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import { type BlockDevice, listBlockDevices } from './probe.ts';

/**
 * A configured device (STORAGE_DEVICE, a volume of VOLUMES) to a block device
 * of this machine. An EBS volume id is found by the serial Nitro instances give its NVMe device: the id without its
 * dash
 * ("vol-0abc…" → "vol0abc…"), which udev also names in
 * /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0abc….
 */

export function volumeSerial(volumeId: string): string {
  return volumeId.replace('-', '');
}

/** label names the device and where it was configured, for messages ("STORAGE_DEVICE=vol-…"). */
export async function resolveDevice(host: Host, device: string, label: string): Promise<BlockDevice> {
  if (isVolumeId(device)) {
    const serial = volumeSerial(device);
    const found = (await listBlockDevices(host)).find((d) => d.serial === serial);
    if (!found)
      throw new AgentError(
        `${label}: no attached block device has the serial ${serial}; ` +
          `is the EBS volume attached to this instance?`,
      );
    return found;
  }
  const [found] = await listBlockDevices(host, device);
  if (!found) throw new AgentError(`${label} is not a block device of this machine`);
  return found;
}

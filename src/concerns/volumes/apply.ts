import type { ConcernContext } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { readTextIfExists } from '../../host/host.ts';
import type { PackageManager } from '../../pkg/package-manager.ts';
import { withFstabEntry } from '../block/fstab.ts';
import { probeSignature } from '../block/probe.ts';
import { onDisk, runLocal } from '../block/run.ts';
import { FSTAB } from './facts.ts';
import { fstabLine, mkfsCommand, mountCommand, type VolumesAction } from './plan.ts';

/** The only place the volumes concern changes the system. */
export async function applyVolumes(action: VolumesAction, context: ConcernContext, packages: PackageManager): Promise<void> {
  const { host } = context;
  switch (action.kind) {
    case 'install-tools':
      return packages.install(action.packages);
    case 'format': {
      const [file, ...args] = mkfsCommand(action.spec, action.device) as [string, ...string[]];
      await runLocal(host, file, args);
      return;
    }
    case 'persist': {
      const uuid = (await probeSignature(host, action.device))?.uuid;
      if (!uuid) throw new AgentError(`${action.device} has no filesystem UUID to mount it by`);
      const fstab = (await readTextIfExists(host, FSTAB)) ?? '';
      return host.writeFileAtomic(FSTAB, withFstabEntry(fstab, action.spec.mountPoint, fstabLine(action.spec, uuid)));
    }
    case 'mount': {
      await host.mkdir(action.spec.mountPoint);
      const [file, ...args] = mountCommand(action.spec, action.device, onDisk(host, action.spec.mountPoint)) as [string, ...string[]];
      await runLocal(host, file, args);
      return;
    }
  }
}

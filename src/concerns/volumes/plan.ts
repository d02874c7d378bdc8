import type { Action } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { describeSignature } from '../block/probe.ts';
import { FSTAB, type VolumeFacts, type VolumesFacts } from './facts.ts';
import type { VolumeSpec } from './spec.ts';

export type VolumesAction = Action &
  (
    | { readonly kind: 'install-tools'; readonly packages: readonly string[] }
    | { readonly kind: 'format'; readonly device: string; readonly spec: VolumeSpec }
    | { readonly kind: 'persist'; readonly device: string; readonly spec: VolumeSpec }
    | { readonly kind: 'mount'; readonly device: string; readonly spec: VolumeSpec }
  );

/** A volume holds something other than the filesystem asked for; it is never formatted over. */
export class VolumeRefusedError extends AgentError {}

/** Pure: the steps from the facts to every volume formatted, persisted in fstab by UUID with nofail, and mounted. */
export function planVolumes(facts: VolumesFacts, describeInstall: (packages: readonly string[]) => string[]): VolumesAction[] {
  const actions: VolumesAction[] = [];
  if (facts.missingPackages.length > 0) {
    const firstBoot = facts.live ? [] : ['image root: the volumes are formatted and mounted by the agent on the booted instance'];
    actions.push({
      kind: 'install-tools',
      packages: facts.missingPackages,
      summary: `install ${facts.missingPackages.join(', ')} (mkfs tools for VOLUMES)`,
      details: [...describeInstall(facts.missingPackages), ...firstBoot],
    });
  }
  for (const volume of facts.volumes) actions.push(...planVolume(volume));
  return actions;
}

function planVolume(volume: VolumeFacts): VolumesAction[] {
  const { spec, device, name } = volume;
  const format = volume.signature === null;
  if (!format && (volume.signature?.type !== spec.fstype || volume.signature.partitionTable !== null)) {
    throw new VolumeRefusedError(
      `refusing to use ${name} for ${spec.mountPoint}: it holds ${describeSignature(volume.signature!)}, not an ${spec.fstype} filesystem; ` +
        'only empty volumes are formatted: wipe it yourself or name another volume',
    );
  }
  const actions: VolumesAction[] = [];
  if (format) actions.push({ kind: 'format', device, spec, summary: `format ${name} as ${spec.fstype} (it is empty)`, details: [mkfsCommand(spec, device).join(' ')] });
  const uuid = format ? null : volume.signature?.uuid ?? null;
  const line = uuid === null ? null : fstabLine(spec, uuid);
  if (volume.fstabLine !== null && !isOurs(volume.fstabLine, device, uuid)) {
    throw new VolumeRefusedError(`${FSTAB} already mounts something else on ${spec.mountPoint} (${volume.fstabLine}); remove that line or choose another mount point`);
  }
  if (line === null || volume.fstabLine !== line) {
    actions.push({ kind: 'persist', device, spec, summary: `mount ${name} on ${spec.mountPoint} at boot, by UUID with nofail`, details: [line ?? fstabLine(spec, '<UUID of the new filesystem>')] });
  }
  if (volume.mount !== null && volume.mount.source !== device) {
    throw new VolumeRefusedError(`${spec.mountPoint} is already a mount of ${volume.mount.source}, not of ${name}; unmount it or choose another mount point`);
  }
  if (volume.mount === null) actions.push({ kind: 'mount', device, spec, summary: `mount ${name} on ${spec.mountPoint}`, details: [mountCommand(spec, device).join(' ')] });
  return actions;
}

/** A line the agent wrote for this volume (by its UUID) or one naming the device itself: the agent's to replace. */
function isOurs(line: string, device: string, uuid: string | null): boolean {
  const source = line.trim().split(/\s+/)[0];
  return source === device || (uuid !== null && source === `UUID=${uuid}`);
}

export function fstabLine(spec: VolumeSpec, uuid: string): string {
  const options = spec.options.split(',').includes('nofail') ? spec.options : `${spec.options},nofail`;
  return `UUID=${uuid} ${spec.mountPoint} ${spec.fstype} ${options} 0 2`;
}

/** No force flag: mkfs refuses a filesystem that appeared since the plan. */
export function mkfsCommand(spec: VolumeSpec, device: string): string[] {
  return [`mkfs.${spec.fstype}`, '--', device];
}

export function mountCommand(spec: VolumeSpec, device: string, target = spec.mountPoint): string[] {
  return ['mount', '-t', spec.fstype, '-o', spec.options, '--', device, target];
}

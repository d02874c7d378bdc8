import type { Command } from '../../core/command.ts';
import type { StepAction } from '../../core/concern.ts';
import { AgentError } from '../../core/errors.ts';
import { type EditStep, editStep } from '../../core/step.ts';
import { withFstabEntry } from '../../block/fstab.ts';
import { describeSignature } from '../../block/probe.ts';
import { localCommand } from '../../block/run.ts';
import { FSTAB, type VolumeFacts, type VolumesFacts } from './facts.ts';
import type { VolumeSpec } from '../../core/config/volumes.ts';

export type VolumesAction =
  | StepAction<'install-tools' | 'format'>
  | (StepAction<'mount'> & { readonly mountPoint: string })
  | (StepAction<'persist'> & {
      readonly device: string;
      readonly spec: VolumeSpec;
      /** Null: the filesystem is made by this apply, its UUID read once mkfs made it. */
      readonly uuid: string | null;
      readonly replacing: string | null;
    });

/** What the steps show for a UUID mkfs has not made yet. */
const NEW_UUID = '<UUID of the new filesystem>';

/** Pure: the steps from the facts to every volume formatted, persisted in fstab by UUID with nofail, and mounted. */
export function planVolumes(
  facts: VolumesFacts,
  installCommands: (packages: readonly string[]) => Command[],
): VolumesAction[] {
  const actions: VolumesAction[] = [];
  if (facts.missingPackages.length > 0) {
    const later = 'image root: the volumes are formatted and mounted by the agent on the booted instance';
    const firstBoot = facts.live ? [] : [{ note: later }];
    actions.push({
      kind: 'install-tools',
      summary: `install ${facts.missingPackages.join(', ')} (mkfs tools for VOLUMES)`,
      steps: [{ install: installCommands(facts.missingPackages) }, ...firstBoot],
    });
  }
  for (const volume of facts.volumes) actions.push(...planVolume(volume));
  return actions;
}

function planVolume(volume: VolumeFacts): VolumesAction[] {
  const { spec, device, name } = volume;
  const format = volume.signature === null;
  if (!format && (volume.signature?.type !== spec.fstype || volume.signature.partitionTable !== null)) {
    // A volume that holds something other than the filesystem asked for is never formatted over.
    throw new AgentError(
      `refusing to use ${name} for ${spec.mountPoint}: it holds ` +
        `${describeSignature(volume.signature!)}, not an ${spec.fstype} filesystem; ` +
        'only empty volumes are formatted: wipe it yourself or name another volume',
    );
  }
  const actions: VolumesAction[] = [];
  if (format) {
    const summary = `format ${name} as ${spec.fstype} (it is empty)`;
    actions.push({ kind: 'format', summary, steps: [{ run: mkfsCommand(spec, device) }] });
  }
  const uuid = format ? null : (volume.signature?.uuid ?? null);
  const line = uuid === null ? null : fstabLine(spec, uuid);
  if (volume.fstabLine !== null && !isOurs(volume.fstabLine, device, uuid)) {
    throw new AgentError(
      `${FSTAB} already mounts something else on ${spec.mountPoint} ` +
        `(${volume.fstabLine}); remove that line or choose another mount point`,
    );
  }
  if (line === null || volume.fstabLine !== line) {
    const persist = { device, spec, uuid, replacing: volume.fstabLine };
    const summary = `mount ${name} on ${spec.mountPoint} at boot, by UUID with nofail`;
    actions.push({ kind: 'persist', ...persist, summary, steps: [persistStep(persist, uuid ?? NEW_UUID)] });
  }
  if (volume.mount !== null && volume.mount.source !== device) {
    throw new AgentError(
      `${spec.mountPoint} is already a mount of ${volume.mount.source}, not of ` +
        `${name}; unmount it or choose another mount point`,
    );
  }
  if (volume.mount === null) {
    const steps = [{ run: mountCommand(spec, device, volume.target) }];
    actions.push({ kind: 'mount', mountPoint: spec.mountPoint, summary: `mount ${name} on ${spec.mountPoint}`, steps });
  }
  return actions;
}

/** The volume's fstab line set, in place of the line it has (the agent's own, or one naming the device). */
export function persistStep(
  persist: { readonly spec: VolumeSpec; readonly replacing: string | null },
  uuid: string,
): EditStep {
  const line = fstabLine(persist.spec, uuid);
  const replaced = persist.replacing === null || persist.replacing === line ? [] : [persist.replacing];
  return editStep(FSTAB, (text) => withFstabEntry(text, persist.spec.mountPoint, line), replaced, [line]);
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
function mkfsCommand(spec: VolumeSpec, device: string): Command {
  return localCommand(`mkfs.${spec.fstype}`, ['--', device]);
}

/** target: the mount point as a path of this machine. */
function mountCommand(spec: VolumeSpec, device: string, target: string): Command {
  return localCommand('mount', ['-t', spec.fstype, '-o', spec.options, '--', device, target]);
}

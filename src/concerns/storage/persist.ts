import { AgentError } from '../../core/errors.ts';
import { type EditStep, editStep, type Step, writeStep } from '../../core/step.ts';
import { fstabEntry, fstabLines, withFstabEntry } from '../../block/fstab.ts';
import { localCommand } from '../../block/run.ts';
import { STORE } from './settings.ts';

/**
 * How the mount survives a reboot. File mode: an fstab line with `loop` (the
 * SUSE way). Device mode: a systemd mount unit naming the filesystem by UUID,
 * because NVMe device names change between boots. Either way the mount is
 * ordered before docker.service and docker.service requires it, so Docker
 * never starts on the bare directory with the btrfs driver configured.
 */

const FSTAB_OPTIONS = 'loop,x-systemd.before=docker.service,x-systemd.required-by=docker.service';

export function fstabLine(file: string): string {
  return `${file} ${STORE.mountPoint} btrfs ${FSTAB_OPTIONS} 0 0`;
}

/** The line fstab has for the mount point, or null. */
export function currentFstabLine(fstab: string): string | null {
  return fstabEntry(fstabLines(fstab), STORE.mountPoint)?.line ?? null;
}

/**
 * fstab with the store's line set, other lines untouched. A line that mounts
 * something else on the mount point is the operator's, and is not replaced.
 */
export function withFstabLine(fstab: string, file: string): string {
  const entry = fstabEntry(fstabLines(fstab), STORE.mountPoint);
  if (entry && entry.source !== file) {
    throw new AgentError(
      `${STORE.fstab} already mounts ${entry.source} on ${STORE.mountPoint}; ` +
        `remove that line to let the agent manage the store`,
    );
  }
  return withFstabEntry(fstab, STORE.mountPoint, fstabLine(file));
}

/** File mode: the store's fstab line set, in place of the agent's own older one. */
export function fstabStep(fstab: string, file: string): EditStep {
  const current = currentFstabLine(fstab);
  const line = fstabLine(file);
  return editStep(STORE.fstab, (text) => withFstabLine(text, file), current === null ? [] : [current], [line]);
}

/**
 * Device mode: the mount unit written (`before`: the unit as it is, for the lines shown) and enabled; with systemd
 * running it rereads its units. uuid: the filesystem's, or a placeholder until mkfs made it.
 */
export function mountUnitSteps(uuid: string, before: string | null, systemdRunning: boolean): Step[] {
  const enable = { file: 'systemctl', args: ['enable', '--', STORE.mountUnitName], timeoutMs: 60_000 };
  const reload: Step[] = systemdRunning ? [{ run: localCommand('systemctl', ['daemon-reload']) }] : [];
  return [writeStep(STORE.mountUnit, mountUnit(uuid), { before }), { run: enable }, ...reload];
}

const UNIT_MARKER = '# Written by ecs-host-agent';

/** A mount unit someone else wrote is theirs, and is not replaced. */
export function isOwnMountUnit(text: string): boolean {
  return text.startsWith(UNIT_MARKER);
}

export function mountUnit(uuid: string): string {
  return `${UNIT_MARKER} (STORAGE_MODE=btrfs-device): Docker's image store on Btrfs.
[Unit]
Description=Docker image store on Btrfs
Before=docker.service

[Mount]
What=/dev/disk/by-uuid/${uuid}
Where=${STORE.mountPoint}
Type=btrfs
Options=defaults

[Install]
WantedBy=local-fs.target
RequiredBy=docker.service
`;
}

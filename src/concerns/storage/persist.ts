import { AgentError } from '../../core/errors.ts';
import { STORE } from './settings.ts';

/**
 * How the mount survives a reboot. File mode: an fstab line with `loop` (the
 * SUSE way). Device mode: a systemd mount unit naming the filesystem by UUID,
 * because NVMe device names change between boots. Either way the mount is
 * ordered before docker.service and docker.service requires it, so Docker
 * never starts on the bare directory with the btrfs driver configured.
 */
export class PersistConflictError extends AgentError {}

const FSTAB_OPTIONS = 'loop,x-systemd.before=docker.service,x-systemd.required-by=docker.service';

export function fstabLine(file: string): string {
  return `${file} ${STORE.mountPoint} btrfs ${FSTAB_OPTIONS} 0 0`;
}

interface FstabEntry {
  readonly index: number;
  readonly source: string;
}

/** The line of fstab that mounts the store's mount point, if any. */
function storeEntry(lines: readonly string[]): FstabEntry | null {
  for (const [index, line] of lines.entries()) {
    const fields = line.trim().split(/\s+/);
    if (fields[0]?.startsWith('#') || fields.length < 2) continue;
    if (fields[1] === STORE.mountPoint) return { index, source: fields[0] as string };
  }
  return null;
}

/** The line fstab has for the mount point, or null. */
export function currentFstabLine(fstab: string): string | null {
  const lines = fstab.split('\n');
  const entry = storeEntry(lines);
  return entry && (lines[entry.index] as string);
}

/**
 * fstab with the store's line set, other lines untouched. A line that mounts
 * something else on the mount point is the operator's, and is not replaced.
 */
export function withFstabLine(fstab: string, file: string): string {
  const lines = fstab === '' ? [] : fstab.replace(/\n$/, '').split('\n');
  const entry = storeEntry(lines);
  if (entry && entry.source !== file) {
    throw new PersistConflictError(`${STORE.fstab} already mounts ${entry.source} on ${STORE.mountPoint}; remove that line to let the agent manage the store`);
  }
  if (entry) lines[entry.index] = fstabLine(file);
  else lines.push(fstabLine(file));
  return `${lines.join('\n')}\n`;
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

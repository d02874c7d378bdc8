import { CommandError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import { probeLocal } from './run.ts';

/**
 * Read-only questions about block devices, files and mounts of this machine,
 * answered by util-linux tools (blkid, findmnt, losetup, lsblk) that work the
 * same with or without udev. Paths are paths of this machine.
 */

/** What a low-level probe finds at the start of a device or file. */
export interface Signature {
  /** Filesystem type ("btrfs", "ext4") or null. */
  readonly type: string | null;
  readonly label: string | null;
  readonly uuid: string | null;
  /** Partition table type ("dos", "gpt") or null. */
  readonly partitionTable: string | null;
}

/** blkid exits 2 when it finds nothing. */
const BLKID_NOTHING = 2;

export async function probeSignature(host: Host, path: string): Promise<Signature | null> {
  const args = ['-p', '-o', 'export', '--', path];
  const result = await probeLocal(host, 'blkid', args);
  if (result.exitCode === BLKID_NOTHING) return null;
  if (result.exitCode !== 0) throw new CommandError(['blkid', ...args], result.exitCode, result.stderr);
  return parseBlkidExport(result.stdout);
}

export function parseBlkidExport(text: string): Signature {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf('=');
    if (at > 0) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return {
    type: fields.get('TYPE') ?? null,
    label: fields.get('LABEL') ?? null,
    uuid: fields.get('UUID') ?? null,
    partitionTable: fields.get('PTTYPE') ?? null,
  };
}

export function describeSignature(signature: Signature): string {
  const parts = [
    signature.type &&
      `a ${signature.type} filesystem${signature.label ? ` labelled ${JSON.stringify(signature.label)}` : ''}`,
    signature.partitionTable && `a ${signature.partitionTable} partition table`,
  ].filter(Boolean);
  return parts.join(' and ') || 'an unknown signature';
}

export interface Mount {
  readonly source: string;
  readonly fstype: string;
}

/** What is mounted exactly at path, or null. */
export async function mountAt(host: Host, path: string): Promise<Mount | null> {
  const result = await probeLocal(host, 'findmnt', ['--json', '--output', 'SOURCE,FSTYPE', '--mountpoint', path]);
  if (result.exitCode !== 0) return null;
  const parsed = JSON.parse(result.stdout) as { filesystems?: { source: string; fstype: string }[] };
  const first = parsed.filesystems?.[0];
  return first ? { source: first.source, fstype: first.fstype } : null;
}

/** Loop devices backed by file. */
export async function loopDevicesOf(host: Host, file: string): Promise<string[]> {
  const result = await probeLocal(host, 'losetup', ['--noheadings', '--output', 'NAME', '--associated', file]);
  return result.exitCode === 0
    ? result.stdout
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)
    : [];
}

export interface BlockDevice {
  /** The kernel's name for it (/dev/nvme1n1), whatever link named it. */
  readonly path: string;
  readonly size: number;
  readonly serial: string | null;
}

const LSBLK_OUTPUT = ['--json', '--nodeps', '--bytes', '--output', 'PATH,SIZE,SERIAL'];

/** Block devices of this machine, or only the one named (null when it is not a block device). */
export async function listBlockDevices(host: Host, only?: string): Promise<BlockDevice[]> {
  const result = await probeLocal(host, 'lsblk', only === undefined ? LSBLK_OUTPUT : [...LSBLK_OUTPUT, '--', only]);
  if (result.exitCode !== 0) return [];
  const parsed = JSON.parse(result.stdout) as {
    blockdevices?: { path: string; size: number | string; serial: string | null }[];
  };
  return (parsed.blockdevices ?? []).map((d) => ({
    path: d.path,
    size: Number(d.size),
    serial: d.serial?.trim() || null,
  }));
}

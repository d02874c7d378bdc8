import { type Command, runCommand } from '../../core/command.ts';
import { AgentError } from '../../core/errors.ts';
import type { Step } from '../../core/step.ts';
import type { Host } from '../../host/host.ts';
import type { Backing } from './facts.ts';
import { mountBacking, mountCommand, unmount, unmountCommand } from './mount.ts';
import { localCommand, onDisk, runLocal } from '../../block/run.ts';
import { STORE } from './settings.ts';

/**
 * Moves an existing /var/lib/docker onto the new filesystem. The old store is
 * only renamed once the copy is complete and verified, and is put back if the
 * new one cannot be mounted, so a failure at any step leaves Docker the store
 * it had. Docker is stopped by the caller.
 */

const COPY_TIMEOUT_MS = 6 * 3_600_000;

/**
 * What plan shows of the move, up to the mount on /var/lib/docker: the commands migrateAndMount runs when nothing
 * fails, with onDisk giving paths of this machine. Its checks and what it undoes on a failure are said in words.
 */
export function migrationSteps(
  backing: Pick<Backing, 'kind' | 'source'>,
  onDiskPath: (path: string) => string,
): Step[] {
  const [store, staging] = [onDiskPath(STORE.mountPoint), onDiskPath(STORE.staging)];
  return [
    { run: mountCommand(backing, staging) },
    { run: copyCommand(store, staging) },
    {
      note:
        'verify every name, type, size, mode and owner matches; ' +
        'on any failure the copy is removed and the old store stays in use',
    },
    { run: unmountCommand(staging) },
    { run: removeDirectoryCommand(staging) },
    { note: `move ${STORE.mountPoint} aside to ${STORE.retired} (moved back should the mount fail)` },
  ];
}

function copyCommand(from: string, to: string): Command {
  return localCommand('cp', ['-a', '--', `${from}/.`, `${to}/`], COPY_TIMEOUT_MS);
}

function removeDirectoryCommand(path: string): Command {
  return localCommand('rmdir', ['--', path]);
}

export async function migrateAndMount(host: Host, backing: Pick<Backing, 'kind' | 'source'>): Promise<void> {
  await copyOntoBacking(host, backing);
  await host.rename(STORE.mountPoint, STORE.retired);
  try {
    await mountOnFreshDirectory(host, backing);
  } catch (error) {
    await host.rename(STORE.retired, STORE.mountPoint);
    throw error;
  }
  await host.rm(STORE.retired, { recursive: true });
}

/** Mounts the store on /var/lib/docker, creating the directory when it is missing. */
export async function mountOnFreshDirectory(host: Host, backing: Pick<Backing, 'kind' | 'source'>): Promise<void> {
  const created = (await host.stat(STORE.mountPoint)) === null;
  if (created) await host.mkdir(STORE.mountPoint, { mode: 0o710 });
  try {
    await mountBacking(host, backing, onDisk(host, STORE.mountPoint));
  } catch (error) {
    if (created) await runCommand(host, removeDirectoryCommand(onDisk(host, STORE.mountPoint)));
    throw error;
  }
}

async function copyOntoBacking(host: Host, backing: Pick<Backing, 'kind' | 'source'>): Promise<void> {
  await host.mkdir(STORE.staging, { mode: 0o700 });
  const staging = onDisk(host, STORE.staging);
  await mountBacking(host, backing, staging);
  try {
    await copyVerified(host, onDisk(host, STORE.mountPoint), staging);
  } finally {
    await unmount(host, staging);
  }
  await runCommand(host, removeDirectoryCommand(staging));
}

/** cp -a into an empty target, then the manifests must match; on failure the partial copy is removed. */
async function copyVerified(host: Host, from: string, to: string): Promise<void> {
  const leftover = await host.readdir(STORE.staging);
  if (leftover.length > 0) {
    throw new AgentError(
      `the new filesystem on ${STORE.staging} is not empty ` +
        `(${leftover.slice(0, 3).join(', ')}…); it will not be written over`,
    );
  }
  try {
    await runCommand(host, copyCommand(from, to));
    const difference = firstDifference(await manifest(host, from), await manifest(host, to));
    if (difference) throw new AgentError(`the copy of ${STORE.mountPoint} differs from the original: ${difference}`);
  } catch (error) {
    for (const entry of await host.readdir(STORE.staging))
      await host.rm(`${STORE.staging}/${entry}`, { recursive: true });
    throw error;
  }
}

/**
 * One line per entry: type, size (files and links; directory sizes differ
 * between filesystems), mode, owner, group and path, sorted.
 */
async function manifest(host: Host, dir: string): Promise<string[]> {
  const { stdout } = await runLocal(host, 'find', [dir, '-mindepth', '1', '-printf', '%y %s %m %U %G %P\\0'], {
    timeoutMs: 3_600_000,
  });
  return stdout
    .split('\0')
    .filter(Boolean)
    .map((entry) => entry.replace(/^d \d+ /, 'd - '))
    .sort();
}

function firstDifference(original: readonly string[], copy: readonly string[]): string | null {
  const inCopy = new Set(copy);
  const missing = original.find((entry) => !inCopy.has(entry));
  if (missing !== undefined) return `missing or different: ${missing}`;
  return original.length === copy.length ? null : `${copy.length - original.length} extra entries`;
}

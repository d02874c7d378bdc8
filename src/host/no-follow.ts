import { constants, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { posix } from 'node:path';

import { setModeAndOwner, writeAtomically } from './atomic-write.ts';
import { UnsafePathError } from './host.ts';
import { nullIfMissing } from './missing.ts';

/**
 * File access below a directory another user controls, without ever following
 * a symlink there. Node has no openat(), so each directory is opened with
 * O_NOFOLLOW and the next step goes through its descriptor's /proc/self/fd
 * entry: the kernel resolves that to the directory already opened, so a link
 * swapped in after a check cannot redirect anything.
 */
const { O_RDONLY, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;

export interface DirectorySettings {
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Opens each directory of `relative` below `base` (`onDisk`: where base is on
 * this machine), then runs `use` inside the last one. Messages name paths as
 * the managed system sees them.
 */
export async function withDirectoryBelow<T>(
  base: string,
  onDisk: string,
  relative: string,
  create: DirectorySettings | null,
  use: (directory: string | null, name: string, shown: string) => Promise<T>,
): Promise<T> {
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  const name = parts.pop();
  if (name === undefined || parts.includes('..') || name === '..') throw new UnsafePathError(`${JSON.stringify(relative)} is not a plain relative path`);
  const handles: FileHandle[] = [await open(onDisk, O_RDONLY | O_DIRECTORY)];
  try {
    let shown = base;
    for (const part of parts) {
      shown = posix.join(shown, part);
      const handle = await openDirectory(fdPath(handles.at(-1) as FileHandle, part), shown, create);
      if (handle === null) return await use(null, name, posix.join(shown, name));
      handles.push(handle);
    }
    return await use(fdPath(handles.at(-1) as FileHandle), name, posix.join(shown, name));
  } finally {
    for (const handle of handles.reverse()) await handle.close();
  }
}

/** null when it does not exist and is not to be created. */
async function openDirectory(path: string, shown: string, create: DirectorySettings | null): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = codeOf(error);
    // With O_DIRECTORY, Linux reports a symlink as ENOTDIR rather than ELOOP.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const link = (await nullIfMissing(lstat(path)))?.isSymbolicLink();
      throw new UnsafePathError(link ? `${shown} is a symbolic link; refusing to follow it` : `${shown} is not a directory`);
    }
    if (code !== 'ENOENT') throw error;
    if (create === null) return null;
    await mkdir(path, { mode: create.mode });
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  }
  if (create !== null) await setModeAndOwner(handle, create);
  return handle;
}

/** `directory` null: a directory on the way does not exist. */
export async function readFileIn(directory: string | null, name: string, shown: string, maxBytes: number): Promise<{ stats: Stats; data: Uint8Array } | null> {
  if (directory === null) return null;
  let handle: FileHandle;
  try {
    // O_NONBLOCK: a FIFO planted there must not hang the agent.
    handle = await open(posix.join(directory, name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    if (codeOf(error) === 'ELOOP') throw new UnsafePathError(`${shown} is a symbolic link; refusing to follow it`);
    throw error;
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UnsafePathError(`${shown} is not a regular file`);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return { stats, data: buffer.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}

export async function writeFileIn(directory: string | null, name: string, shown: string, data: string | Uint8Array, settings: DirectorySettings): Promise<void> {
  if (directory === null) throw new Error(`no directory for ${shown}: directories are created on the way`);
  const refuseSymlink = async () => {
    if ((await nullIfMissing(lstat(posix.join(directory, name))))?.isSymbolicLink()) {
      throw new UnsafePathError(`${shown} is a symbolic link; refusing to replace it`);
    }
  };
  await writeAtomically(directory, name, data, settings, { key: posix.dirname(shown), beforeRename: refuseSymlink });
}

export async function removeFileIn(directory: string | null, name: string, shown: string): Promise<void> {
  if (directory === null) return;
  const target = posix.join(directory, name);
  const stats = await nullIfMissing(lstat(target));
  if (stats === null) return;
  if (stats.isDirectory()) throw new UnsafePathError(`${shown} is a directory`);
  await unlink(target);
}

function fdPath(handle: FileHandle, name?: string): string {
  return name === undefined ? `/proc/self/fd/${handle.fd}` : `/proc/self/fd/${handle.fd}/${name}`;
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

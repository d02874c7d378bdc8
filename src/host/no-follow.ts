import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, type Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { setImmediate } from 'node:timers/promises';

import { createExclusively, setModeAndOwner, syncDirectory, writeAtomically } from './atomic-write.ts';
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

/** writeFileIn: `durable` false leaves out the fsyncs; `exclusive` creates the file in place (it must not exist). */
export interface FileSettings extends DirectorySettings {
  readonly durable?: boolean;
  readonly exclusive?: boolean;
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
  const { parts, name } = plainRelative(relative);
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

/** The directories of a path below base and its last name; ".." or nothing at all is refused. */
function plainRelative(relative: string): { parts: string[]; name: string } {
  const parts = relative.split('/').filter((part) => part !== '' && part !== '.');
  const name = parts.pop();
  if (name === undefined || parts.includes('..') || name === '..')
    throw new UnsafePathError(`${JSON.stringify(relative)} is not a plain relative path`);
  return { parts, name };
}

/** null when it does not exist and is not to be created. */
async function openDirectory(
  path: string,
  shown: string,
  create: DirectorySettings | null,
): Promise<FileHandle | null> {
  let handle: FileHandle;
  try {
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = codeOf(error);
    // With O_DIRECTORY, Linux reports a symlink as ENOTDIR rather than ELOOP.
    if (code === 'ELOOP' || code === 'ENOTDIR') {
      const link = (await nullIfMissing(lstat(path)))?.isSymbolicLink();
      throw new UnsafePathError(
        link ? `${shown} is a symbolic link; refusing to follow it` : `${shown} is not a directory`,
      );
    }
    if (code !== 'ENOENT') throw error;
    if (create === null) return null;
    await mkdir(path, { mode: create.mode });
    handle = await open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  }
  if (create !== null) await setModeAndOwner(handle, create);
  return handle;
}

type FileRead = { readonly stats: Stats; readonly data: Uint8Array };

/** What readFilesBelow found at one relative path; refused: the UnsafePathError's message (nothing was read). */
export type ReadBelow =
  | {
      /** Each directory opened on the way below base, in order: fewer than the path has when one is missing. */
      readonly directories: readonly Stats[];
      readonly file: FileRead | null;
    }
  | { readonly refused: string };

/**
 * Synchronous reads between yields to the event loop. A sync reads every managed user's keys, and a round trip
 * through libuv's thread pool for each of a file's ten system calls cost more than the calls themselves (1,000
 * homes: 0.22 to 0.3 s of CPU through the pool, 0.05 s synchronously). A home on a hung network file system
 * blocks the event loop here; through the pool it would hold all four of its threads, and every file access
 * of the process with them.
 */
const READS_BETWEEN_YIELDS = 64;

/** Reads base/relative for each relative, base opened once; the same walk as withDirectoryBelow, synchronously. */
export async function readFilesBelow(
  base: string,
  onDisk: string,
  relatives: readonly string[],
  maxBytes: number,
): Promise<ReadBelow[]> {
  const baseFd = openSync(onDisk, O_RDONLY | O_DIRECTORY);
  try {
    const found: ReadBelow[] = [];
    for (const relative of relatives) {
      if (found.length > 0 && found.length % READS_BETWEEN_YIELDS === 0) await setImmediate();
      found.push(readBelow(base, baseFd, relative, maxBytes));
    }
    return found;
  } finally {
    closeSync(baseFd);
  }
}

function readBelow(base: string, baseFd: number, relative: string, maxBytes: number): ReadBelow {
  const fds: number[] = [];
  try {
    const { parts, name } = plainRelative(relative);
    // The path as messages name it, made only for a message: joining it for every file cost a tenth of the read.
    const shown = (count: number) => () => posix.join(base, ...[...parts, name].slice(0, count));
    const directories: Stats[] = [];
    for (const [index, part] of parts.entries()) {
      const fd = openDirectorySync(`/proc/self/fd/${fds.at(-1) ?? baseFd}/${part}`, shown(index + 1));
      if (fd === null) return { directories, file: null };
      fds.push(fd);
      directories.push(fstatSync(fd));
    }
    const file = readFileSyncIn(`/proc/self/fd/${fds.at(-1) ?? baseFd}/${name}`, shown(parts.length + 1), maxBytes);
    return { directories, file };
  } catch (error) {
    if (error instanceof UnsafePathError) return { refused: error.message };
    throw error;
  } finally {
    for (const fd of fds.reverse()) closeSync(fd);
  }
}

/** null when missing. */
function openDirectorySync(path: string, shown: () => string): number | null {
  try {
    return openSync(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (error) {
    const code = codeOf(error);
    if (code === 'ENOENT') return null;
    if (code !== 'ELOOP' && code !== 'ENOTDIR') throw error;
    const link = lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink();
    const what = link ? 'is a symbolic link; refusing to follow it' : 'is not a directory';
    throw new UnsafePathError(`${shown()} ${what}`);
  }
}

function readFileSyncIn(path: string, shown: () => string, maxBytes: number): FileRead | null {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted there must not hang the agent.
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null;
    if (codeOf(error) === 'ELOOP') throw new UnsafePathError(`${shown()} is a symbolic link; refusing to follow it`);
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new UnsafePathError(`${shown()} is not a regular file`);
    const buffer = Buffer.alloc(Math.min(stats.size, maxBytes));
    const bytesRead = buffer.length === 0 ? 0 : readSync(fd, buffer, 0, buffer.length, 0);
    return { stats, data: buffer.subarray(0, bytesRead) };
  } finally {
    closeSync(fd);
  }
}

export async function writeFileIn(
  directory: string | null,
  name: string,
  shown: string,
  data: string | Uint8Array,
  settings: FileSettings,
): Promise<void> {
  if (directory === null) throw new Error(`no directory for ${shown}: directories are created on the way`);
  if (settings.exclusive === true) {
    await createExclusively(posix.join(directory, name), data, settings, settings.durable !== false);
    if (settings.durable !== false) await syncDirectory(directory);
    return;
  }
  const refuseSymlink = async () => {
    if ((await nullIfMissing(lstat(posix.join(directory, name))))?.isSymbolicLink()) {
      throw new UnsafePathError(`${shown} is a symbolic link; refusing to replace it`);
    }
  };
  await writeAtomically(directory, name, data, settings, {
    key: posix.dirname(shown),
    beforeRename: refuseSymlink,
    durable: settings.durable !== false,
  });
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

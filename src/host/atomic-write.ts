import { constants } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { posix } from 'node:path';

import { removeStaleTemps, tempNameFor } from './temp-files.ts';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY } = constants;

/** Mode and owner of a file or directory the agent writes; an owner left out stays the writer's (root). */
export interface ModeAndOwner {
  readonly mode: number;
  readonly uid?: number | undefined;
  readonly gid?: number | undefined;
}

export interface AtomicWriteOptions {
  /** Names the directory across calls when `directory` is a /proc/self/fd path (see removeStaleTemps). */
  readonly key?: string;
  /** Runs after the data is on disk, before the rename: it may refuse the target by throwing. */
  readonly beforeRename?: () => Promise<void>;
  /** false leaves out the fsyncs: the caller makes a whole batch durable at once (one sync of the filesystem). */
  readonly durable?: boolean;
}

/**
 * Writes directory/name whole or not at all, for the real Host and for no-follow writes alike: a temp file
 * beside it (leftovers of crashed writers swept first), given its mode and owner, fsynced, renamed over name,
 * then the directory fsynced so the rename survives a crash. A failure removes the temp file.
 */
export async function writeAtomically(
  directory: string,
  name: string,
  data: string | Uint8Array,
  file: ModeAndOwner,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await removeStaleTemps(directory, name, options.key);
  const temp = posix.join(directory, await tempNameFor(name));
  const durable = options.durable !== false;
  try {
    await createExclusively(temp, data, file, durable);
    await options.beforeRename?.();
    await rename(temp, posix.join(directory, name));
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  if (durable) await syncDirectory(directory);
}

/**
 * A new file at path (O_EXCL: nothing may be there, not even a link), written, given its mode and owner, fsynced when
 * durable.
 */
export async function createExclusively(
  path: string,
  data: string | Uint8Array,
  file: ModeAndOwner,
  durable: boolean,
): Promise<void> {
  const handle = await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, file.mode);
  try {
    await handle.writeFile(data);
    await setModeAndOwner(handle, file);
    if (durable) await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Owner first (chown clears setuid bits), then the mode exactly: the umask must not weaken or widen it. */
export async function setModeAndOwner(handle: FileHandle, file: ModeAndOwner): Promise<void> {
  if (file.uid !== undefined || file.gid !== undefined) await handle.chown(file.uid ?? -1, file.gid ?? -1);
  await handle.chmod(file.mode);
}

/** Makes the entries of a directory (a rename, a link) durable. */
export async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, O_RDONLY | O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

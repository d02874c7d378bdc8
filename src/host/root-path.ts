import { lstat, readlink } from 'node:fs/promises';
import { posix } from 'node:path';

import { AgentError } from '../core/errors.ts';
import { nullIfMissing } from './missing.ts';

/** Linux gives up after 40 links (ELOOP); so do we. */
const MAX_SYMLINKS = 40;

/**
 * Maps a path of the managed system onto this machine. With root "/" this is the
 * path itself. Under an image root every component is resolved inside the root
 * the way the image will see it once booted: an absolute symlink target starts
 * again at the root, and a "..", given or from a link, that would climb above
 * the root is an error rather than silently clamped, so nothing the image
 * contains can make the agent read or write the build machine's own files.
 */
export async function resolveUnderRoot(root: string, path: string): Promise<string> {
  if (!posix.isAbsolute(path)) throw new AgentError(`path must be absolute: ${JSON.stringify(path)}`);
  if (root === '/') return posix.normalize(path);

  const pending = path.split('/').filter((part) => part !== '' && part !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '..') {
      if (resolved.length === 0) throw escape(root, path);
      resolved.pop();
      continue;
    }
    const onDisk = posix.join(root, ...resolved, part);
    const target = await symlinkTarget(onDisk);
    if (target === null) {
      resolved.push(part);
      continue;
    }
    if (++links > MAX_SYMLINKS) throw new AgentError(`too many symlinks resolving ${path} under ${root}`);
    if (posix.isAbsolute(target)) resolved.length = 0;
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return posix.join(root, ...resolved);
}

async function symlinkTarget(path: string): Promise<string | null> {
  return nullIfMissing(lstat(path).then((info) => (info.isSymbolicLink() ? readlink(path) : null)));
}

function escape(root: string, path: string): AgentError {
  return new AgentError(`${path} escapes the image root ${root}`);
}

/** Like resolveUnderRoot, but a final symlink is left alone (for lstat, rm, rename). */
export async function resolveParentUnderRoot(root: string, path: string): Promise<string> {
  const normal = posix.normalize(path);
  if (root === '/' || normal === '/') return resolveUnderRoot(root, normal);
  return posix.join(await resolveUnderRoot(root, posix.dirname(normal)), posix.basename(normal));
}

import { posix } from 'node:path';

import { type FileInfo, type Host, UnsafePathError } from '../../host/host.ts';
import type { Account } from './accounts.ts';
import { USERS } from './settings.ts';

/**
 * A managed user's home as the agent finds it. The home directory, ~/.ssh and authorized_keys are all the user's
 * (or were planted by someone who could write there): none of them is ever followed if it is a symbolic link.
 */
export type HomeKeys =
  /** text null: no authorized_keys; settled: .ssh and the file have the agent's mode and the user as owner. */
  | { readonly kind: 'readable'; readonly text: string | null; readonly settled: boolean }
  /**
   * A symlink or other trap: nothing is written there. linkedFile: only authorized_keys itself is a link
   * (removable); missing: the home does not exist at all.
   */
  | { readonly kind: 'refused'; readonly reason: string; readonly linkedFile: boolean; readonly missing: boolean };

export interface Home {
  /** The home directory itself (lstat), or null when it does not exist. */
  readonly info: FileInfo | null;
  readonly keys: HomeKeys;
}

export async function readHome(host: Host, account: Account): Promise<Home> {
  const info = await host.lstat(account.home);
  if (info === null) return { info, keys: refused(`the home directory ${account.home} does not exist`, { missing: true }) };
  if (info.kind === 'symlink') return { info, keys: refused(`the home directory ${account.home} is a symbolic link; refusing to follow it`) };
  if (info.kind !== 'directory') return { info, keys: refused(`the home directory ${account.home} is not a directory`) };
  return { info, keys: await readKeys(host, account) };
}

async function readKeys(host: Host, account: Account): Promise<HomeKeys> {
  const sshDir = await host.lstat(`${account.home}/.ssh`);
  if (sshDir?.kind === 'symlink') return refused(`${account.home}/.ssh is a symbolic link; refusing to follow it`);
  if (sshDir !== null && sshDir.kind !== 'directory') return refused(`${account.home}/.ssh is not a directory`);
  try {
    const file = await host.readFileNoFollow(account.home, USERS.keysPath, USERS.maxKeysFileBytes);
    const owned = (info: FileInfo, mode: number) => info.uid === account.uid && info.gid === account.gid && info.mode === mode;
    const settled = sshDir !== null && owned(sshDir, USERS.sshDirMode) && (file === null || owned(file.info, USERS.keysFileMode));
    return { kind: 'readable', text: file && Buffer.from(file.data).toString('utf8'), settled };
  } catch (error) {
    if (!(error instanceof UnsafePathError)) throw error;
    const linkedFile = (await host.lstat(`${account.home}/${USERS.keysPath}`))?.kind === 'symlink';
    return refused(error.message, { linkedFile });
  }
}

/** [the home's parent, "name/relative"]: the no-follow walk then starts above the home. */
export function belowParent(home: string, relative: string): [string, string] {
  return [posix.dirname(home), `${posix.basename(home)}/${relative}`];
}

function refused(reason: string, flags: { linkedFile?: boolean; missing?: boolean } = {}): HomeKeys {
  return { kind: 'refused', reason, linkedFile: flags.linkedFile ?? false, missing: flags.missing ?? false };
}

/** A file of /etc/skel, copied into the homes the agent creates (newusers, unlike useradd, does not copy skel). */
export interface SkelFile {
  /** Relative to /etc/skel: ".bashrc", ".config/autostart/x.desktop". */
  readonly path: string;
  readonly mode: number;
  /** The mode of its directory in skel, given to the directories made on the way. */
  readonly dirMode: number;
  readonly data: Uint8Array;
}

/** Regular files, below directories of any depth; anything else (a symlink, a FIFO, an empty directory) is not copied. */
export async function readSkel(host: Host, directory: string = USERS.skel, prefix = ''): Promise<SkelFile[]> {
  const info = await host.lstat(directory);
  if (info?.kind !== 'directory') return [];
  const files: SkelFile[] = [];
  for (const name of await host.readdir(directory)) {
    const path = `${directory}/${name}`;
    const entry = await host.lstat(path);
    const relative = `${prefix}${name}`;
    if (entry?.kind === 'file') files.push({ path: relative, mode: entry.mode & 0o777, dirMode: info.mode & 0o777, data: await host.readBytes(path) });
    if (entry?.kind === 'directory') files.push(...(await readSkel(host, path, `${relative}/`)));
  }
  return files;
}

import { posix } from 'node:path';

import { type FileInfo, type Host, type NoFollowFile, type NoFollowRead, UnsafePathError } from '../../host/host.ts';
import { decodeLossless } from '../../core/config/text.ts';
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
  /** The home is a directory, not a link (what userdel --remove may remove). */
  readonly isDirectory: boolean;
  readonly keys: HomeKeys;
}

/** Each home read holds a few descriptors open: at most this many at a time. */
const HOME_READS_AT_ONCE = 64;

/**
 * Every managed user's home, on every sync. The keys of all homes below one directory are read in one no-follow
 * read from that directory down, so a home or ~/.ssh that is a link fails it, and the directories on the way give
 * ~/.ssh's owner and mode; only a home where that read found no keys is looked at further (readHome).
 */
export async function readHomes(host: Host, accounts: readonly Account[]): Promise<Map<string, Home>> {
  const homes = new Map<string, Home>();
  const unread: Account[] = [];
  for (const [parent, below] of byParent(accounts)) {
    const relatives = below.map((account) => belowParent(account.home, USERS.keysPath)[1]);
    const reads = await host.readFilesNoFollow(parent, relatives, USERS.maxKeysFileBytes);
    below.forEach((account, index) => {
      const read = reads[index] as NoFollowRead;
      const sshDir = 'refused' in read ? undefined : read.directories.at(-1);
      if ('refused' in read || read.file === null || sshDir === undefined) unread.push(account);
      else homes.set(account.name, { isDirectory: true, keys: readable(account, sshDir, read.file) });
    });
  }
  let next = 0;
  const worker = async () => {
    while (next < unread.length) {
      const account = unread[next++] as Account;
      homes.set(account.name, await readHome(host, account));
    }
  };
  await Promise.all(Array.from({ length: Math.min(HOME_READS_AT_ONCE, unread.length) }, worker));
  return homes;
}

function byParent(accounts: readonly Account[]): Map<string, Account[]> {
  const groups = new Map<string, Account[]>();
  for (const account of accounts) {
    const parent = belowParent(account.home, USERS.keysPath)[0];
    const below = groups.get(parent) ?? [];
    groups.set(parent, below);
    below.push(account);
  }
  return groups;
}

/**
 * A home readHomes found no keys in, looked at closely: the keys are read from the home's parent down, so a home
 * that is a link fails that read, and only a failed or empty read looks at the home itself.
 */
async function readHome(host: Host, account: Account): Promise<Home> {
  const [sshDir, file] = await Promise.all([host.lstat(`${account.home}/.ssh`), readKeysFile(host, account)]);
  // Read without following anything from the home's parent down: the home is a directory.
  if (file.kind === 'read' && file.file !== null)
    return { isDirectory: true, keys: readable(account, sshDir, file.file) };
  const info = await host.lstat(account.home);
  const home = (keys: HomeKeys): Home => ({ isDirectory: info?.kind === 'directory', keys });
  if (info === null) return home(refused(`the home directory ${account.home} does not exist`, { missing: true }));
  if (info.kind === 'symlink')
    return home(refused(`the home directory ${account.home} is a symbolic link; refusing to follow it`));
  if (info.kind !== 'directory') return home(refused(`the home directory ${account.home} is not a directory`));
  if (sshDir?.kind === 'symlink')
    return home(refused(`${account.home}/.ssh is a symbolic link; refusing to follow it`));
  if (sshDir !== null && sshDir.kind !== 'directory') return home(refused(`${account.home}/.ssh is not a directory`));
  if (file.kind === 'refused') return home(refused(file.reason, { linkedFile: file.linkedFile }));
  return home(readable(account, sshDir, null));
}

type KeysFile =
  | { readonly kind: 'read'; readonly file: NoFollowFile | null }
  | { readonly kind: 'refused'; readonly reason: string; readonly linkedFile: boolean };

async function readKeysFile(host: Host, account: Account): Promise<KeysFile> {
  try {
    return {
      kind: 'read',
      file: await host.readFileNoFollow(...belowParent(account.home, USERS.keysPath), USERS.maxKeysFileBytes),
    };
  } catch (error) {
    if (!(error instanceof UnsafePathError)) throw error;
    const linkedFile = (await host.lstat(`${account.home}/${USERS.keysPath}`))?.kind === 'symlink';
    return { kind: 'refused', reason: error.message, linkedFile };
  }
}

/** settled: .ssh and the file have the agent's mode and the user as owner. */
function readable(account: Account, sshDir: FileInfo | null, file: NoFollowFile | null): HomeKeys {
  const owned = (info: FileInfo, mode: number) =>
    info.uid === account.uid && info.gid === account.gid && info.mode === mode;
  const settled =
    sshDir?.kind === 'directory' &&
    owned(sshDir, USERS.sshDirMode) &&
    (file === null || owned(file.info, USERS.keysFileMode));
  return { kind: 'readable', text: file && Buffer.from(file.data).toString('utf8'), settled };
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
  /** The same bytes as text, as a write step carries them (decodeLossless). */
  readonly text: string;
}

/** Regular files, below directories of any depth; anything else (a link, a FIFO, an empty directory) is not copied. */
export async function readSkel(host: Host, directory: string = USERS.skel, prefix = ''): Promise<SkelFile[]> {
  const info = await host.lstat(directory);
  if (info?.kind !== 'directory') return [];
  const files: SkelFile[] = [];
  for (const name of await host.readdir(directory)) {
    const path = `${directory}/${name}`;
    const entry = await host.lstat(path);
    const relative = `${prefix}${name}`;
    if (entry?.kind === 'file') {
      const data = await host.readBytes(path);
      const [mode, dirMode] = [entry.mode & 0o777, info.mode & 0o777];
      files.push({ path: relative, mode, dirMode, data, text: decodeLossless(data) });
    }
    if (entry?.kind === 'directory') files.push(...(await readSkel(host, path, `${relative}/`)));
  }
  return files;
}

/** A home that is already there for a user whose creation this sync finishes (a killed creation made it). */
export interface ExistingHome {
  /** As lstat finds it: null when missing; a home that is a link or no directory is never written into. */
  readonly info: FileInfo | null;
  /** Its authorized_keys, or null (none, or not readable without following a link). */
  readonly keys: string | null;
  /** The files of skel it already holds as skel has them: not written again. */
  readonly unchangedSkel: ReadonlySet<string>;
}

export async function readExistingHome(host: Host, home: string, skel: readonly SkelFile[]): Promise<ExistingHome> {
  const info = await host.lstat(home);
  if (info?.kind !== 'directory') return { info, keys: null, unchangedSkel: new Set() };
  const unchangedSkel = new Set<string>();
  await Promise.all(
    skel.map(async (file) => {
      const data = await readInHome(host, home, file.path, file.data.length + 1);
      if (data !== null && Buffer.from(data).equals(file.data)) unchangedSkel.add(file.path);
    }),
  );
  const keys = await readInHome(host, home, USERS.keysPath, USERS.maxKeysFileBytes);
  return { info, keys: keys && Buffer.from(keys).toString('utf8'), unchangedSkel };
}

/** A file below the home, or null when missing or not readable without following a link (then written over). */
async function readInHome(host: Host, home: string, path: string, maxBytes: number): Promise<Uint8Array | null> {
  try {
    return (await host.readFileNoFollow(home, path, maxBytes))?.data ?? null;
  } catch (error) {
    if (error instanceof UnsafePathError) return null;
    throw error;
  }
}

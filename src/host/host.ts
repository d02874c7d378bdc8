/**
 * The one seam for every side effect. Concerns, detectors and commands take a
 * Host; only the real Host touches node:fs, node:child_process or the network.
 * Paths are always absolute paths as the managed system sees them ("/etc/ecs"),
 * whether that system is this machine or an image root given with --root.
 */
export interface ExecOptions {
  /** Kill the command after this long; a timeout is an error, not an exit status. */
  readonly timeoutMs?: number;
  /** Added to a minimal, fixed environment (PATH, LANG=C). Never a shell. */
  readonly env?: Readonly<Record<string, string>>;
  readonly input?: string;
  readonly cwd?: string;
  /**
   * `managed` (default): the command acts on the managed system; under --root
   * package and account tools are retargeted at the image (chroot, --installroot, --root).
   * `local`: the command runs on this machine as given (mkfs, mount, losetup).
   */
  readonly target?: 'managed' | 'local';
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export type FileKind = 'file' | 'directory' | 'symlink' | 'other';

export interface FileInfo {
  readonly kind: FileKind;
  readonly size: number;
  /** Bytes actually allocated on disk (sparse files have fewer). */
  readonly allocated: number;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeMs: number;
}

export interface WriteOptions {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface HttpRequest {
  readonly method?: 'GET' | 'PUT' | 'POST' | 'HEAD';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface Host {
  /** "/" for this machine, or the image root given with --root. */
  readonly root: string;

  /** Runs file with args (no shell). Resolves with any exit status; rejects on spawn failure or timeout. */
  exec(file: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;

  /** Where a managed path is on this machine, for tools run with target 'local' (gpg, mkfs, losetup). */
  localPath(path: string): Promise<string>;

  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  /** Temp file in the same directory, fsync, rename, fsync of the directory. */
  writeFileAtomic(path: string, data: string | Uint8Array, options?: WriteOptions): Promise<void>;
  /** Follows symlinks; null when nothing is there. */
  stat(path: string): Promise<FileInfo | null>;
  /** Does not follow a final symlink; null when nothing is there. */
  lstat(path: string): Promise<FileInfo | null>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options?: { readonly mode?: number }): Promise<void>;
  rm(path: string, options?: { readonly recursive?: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;

  http(request: HttpRequest): Promise<HttpResponse>;

  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** Reads a text file, or null when it does not exist. */
export async function readTextIfExists(host: Host, path: string): Promise<string | null> {
  return (await host.stat(path)) === null ? null : host.readText(path);
}

import { AgentError, CommandError } from '../core/errors.ts';

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
  /**
   * The command is safe to stop part-way: a query, a download, `apt-get update`, a dry run; nothing is left
   * half-changed. When the daemon stops, such a command is killed rather than waited for. Unmarked commands
   * (an install, an upgrade) are never killed by the agent: they finish even if the agent exits first.
   */
  readonly interruptible?: boolean;
  /**
   * Aborting kills the command's whole process group (SIGTERM, then SIGKILL) and the call rejects; the command
   * runs in a process group of its own. The daemon sets it for interruptible commands only.
   */
  readonly signal?: AbortSignal;
  /**
   * Aborting sends SIGTERM to the command alone, once, and the call waits for it to exit: for a command that
   * stops itself in order (a job's own process, which waits for an install it started). The command runs in a
   * process group of its own, so a signal meant for the agent's group does not reach it directly.
   */
  readonly terminate?: AbortSignal;
  /** Each line of stdout, as it comes (a job process's log lines): stdout goes here instead of into the result. */
  readonly onLine?: (line: string) => void;
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

/** A directory that writeFileNoFollow creates or corrects on the way to the file. */
export interface NoFollowWriteOptions extends WriteOptions {
  readonly dirMode: number;
  /**
   * false: no fsync of the file and its directory, for a batch of files the caller then makes durable at once
   * (`sync --file-system`) before it relies on them. Default true.
   */
  readonly durable?: boolean;
  /**
   * true: the file is created in place, without a temporary file and rename, and must not exist yet (EEXIST
   * otherwise): for directories nobody else writes into yet (a home just made). Default false.
   */
  readonly exclusive?: boolean;
}

export interface NoFollowFile {
  readonly info: FileInfo;
  /** At most the maxBytes asked for: a longer file reads as its beginning. */
  readonly data: Uint8Array;
}

/** What readFilesNoFollow found at one path; refused: the message readFileNoFollow's UnsafePathError would give. */
export type NoFollowRead =
  | {
      /** Each directory below base on the way, in order: fewer than the path has when one is missing. */
      readonly directories: readonly FileInfo[];
      readonly file: NoFollowFile | null;
    }
  | { readonly refused: string };

/**
 * A path below a no-follow base holds a symlink or something other than what was expected; nothing was read or written
 * through it.
 */
export class UnsafePathError extends AgentError {}

export interface HttpRequest {
  readonly method?: 'GET' | 'PUT' | 'POST' | 'HEAD';
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Text is sent as UTF-8; bytes as they are (a compressed protobuf). */
  readonly body?: string | Uint8Array;
  /** For the whole exchange (10 s by default); a request that outlives it rejects with code ETIMEDOUT. */
  readonly timeoutMs?: number;
  /** Connect to this unix socket instead of the URL's host (the Docker API). */
  readonly socketPath?: string;
  /** https trust anchors: PEM text, or 'system' for the operating system's store (default: Node's bundled CAs). */
  readonly ca?: string;
  /** The request fails when the reply body is larger (a misbehaving server cannot exhaust memory). */
  readonly maxResponseBytes?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

/** What statfs(2) reports for the filesystem holding a path. */
export interface FsStats {
  /** Filesystem magic number (0x9123683e Btrfs, 0x6969 NFS …). */
  readonly type: number;
  readonly blockSize: number;
  readonly blocks: number;
  readonly blocksFree: number;
  /** Free blocks an unprivileged user may use (what df shows as available). */
  readonly blocksAvailable: number;
  readonly files: number;
  readonly filesFree: number;
}

/**
 * A file kept open and read whole again and again (the /proc files of every metrics sample): no open, stat and
 * close each time. It stays the file that was opened: one replaced by a rename is not followed. For files the
 * kernel generates (/proc, /sys): the real Host reads them without leaving the event loop.
 */
export interface FileReader {
  /** The whole file, read from offset 0: a /proc file's contents as of this call. */
  read(): Promise<string>;
  close(): Promise<void>;
}

/** A request received by a server started with Host.serveHttp. */
export interface ServedRequest {
  readonly method: string;
  /** Path and query, as sent ("/v1/samples?x=1"). */
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export type ServeHandler = (request: ServedRequest) => Promise<HttpResponse> | HttpResponse;

export interface ServeOptions {
  /** An address of this machine: loopback, unless the caller authenticates requests. */
  readonly address: string;
  /** 0: any free port. */
  readonly port: number;
  /** Larger request bodies are answered 413 without reaching the handler. */
  readonly maxBodyBytes: number;
  /** HTTPS with these credentials; plain HTTP without. */
  readonly tls?: TlsCredentials;
}

/** PEM texts of a TLS server. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
  /** Clients must present a certificate these CAs signed. */
  readonly clientCa?: string;
  readonly minVersion: 'TLSv1.2' | 'TLSv1.3';
}

export interface HttpServer {
  /** http://address:port, or https:// */
  readonly url: string;
  /** New connections use these credentials (a renewed certificate); only for a server started with tls. */
  setTls?(tls: TlsCredentials): void;
  close(): Promise<void>;
}

/** A TCP connection and TLS handshake, nothing sent: can this machine reach an HTTPS endpoint? */
export interface TlsProbeRequest {
  readonly host: string;
  readonly port: number;
  /** An HTTP proxy (http://[user:pass@]host:port) to tunnel through with CONNECT, or null for a direct connection. */
  readonly proxy: string | null;
  /** For the whole probe: connection, CONNECT and handshake. */
  readonly timeoutMs: number;
}

export interface TlsProbeResult {
  /** The negotiated protocol ("TLSv1.3"). */
  readonly protocol: string | null;
  /**
   * Null when the certificate chain verifies for the host name; why not otherwise (a TLS-intercepting proxy, a wrong
   * endpoint).
   */
  readonly certificateError: string | null;
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
  /** Creates a new file (mode less the umask); false (and nothing written) when something, even a symlink, is there. */
  createExclusive(path: string, data: string, options?: { readonly mode?: number }): Promise<boolean>;
  /** Follows symlinks; null when nothing is there. */
  stat(path: string): Promise<FileInfo | null>;
  /** Does not follow a final symlink; null when nothing is there. */
  lstat(path: string): Promise<FileInfo | null>;
  /** Sorted names. */
  readdir(path: string): Promise<string[]>;
  /**
   * Names in a directory the kernel generates (/proc, /sys), in no particular order. The real Host lists it
   * without a round trip through libuv's thread pool: the metrics sampler counts /proc's processes every sample.
   */
  listKernelDirectory(path: string): Promise<string[]>;
  mkdir(path: string, options?: { readonly mode?: number }): Promise<void>;
  rm(path: string, options?: { readonly recursive?: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /**
   * Gives the file `from` the second name `to` (a hard link), then fsyncs to's directory; false (nothing changed)
   * when `to` is already taken. Unlike rename it never replaces: for names two processes may pick at once.
   */
  linkExclusive(from: string, to: string): Promise<boolean>;
  /** Opens a file to be read whole many times; the caller closes it. */
  openReader(path: string): Promise<FileReader>;

  /*
   * For trees another user controls (home directories): `base` is resolved as
   * usual, but no symlink below it is ever followed, so a link planted there
   * cannot redirect a write of the agent (running as root) to /etc/shadow.
   * A symlink or a non-directory on the way fails with UnsafePathError.
   */
  /** Reads base/relative (a regular file only); null when it does not exist. */
  readFileNoFollow(base: string, relative: string, maxBytes: number): Promise<NoFollowFile | null>;
  /**
   * readFileNoFollow of many files below one base (every user's keys), with what the walk found on the way
   * (each directory's owner and mode): a refusal is that file's result, not an error of the whole read.
   */
  readFilesNoFollow(base: string, relatives: readonly string[], maxBytes: number): Promise<NoFollowRead[]>;
  /**
   * Writes base/relative atomically (temp file in the same directory, rename);
   * each directory below base is created if missing and set to dirMode, uid, gid.
   * A symlink where the file goes is refused, not replaced.
   */
  writeFileNoFollow(
    base: string,
    relative: string,
    data: string | Uint8Array,
    options: NoFollowWriteOptions,
  ): Promise<void>;
  /** Removes the file (or a symlink, never its target) at base/relative; nothing there is fine. */
  removeNoFollow(base: string, relative: string): Promise<void>;
  /** Appends to a file (created with mode when missing); no fsync: for logs and sinks, not state. */
  appendFile(path: string, data: string, options?: { readonly mode?: number }): Promise<void>;
  statfs(path: string): Promise<FsStats>;

  http(request: HttpRequest): Promise<HttpResponse>;
  /** Rejects naming the stage that failed: TCP connect, proxy CONNECT or TLS handshake. */
  tlsProbe(request: TlsProbeRequest): Promise<TlsProbeResult>;
  /** A long-lived HTTP server (the Prometheus endpoint, the reference control receiver). */
  serveHttp(options: ServeOptions, handler: ServeHandler): Promise<HttpServer>;

  now(): Date;
  sleep(ms: number): Promise<void>;

  /** This machine's host name (the kernel's nodename), under --root too: an image root is not running. */
  hostname(): string;
}

/**
 * Runs a command that must succeed: any other exit is a CommandError carrying its stderr (or stdout when stderr is
 * empty).
 */
export async function execChecked(
  host: Host,
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const result = await host.exec(file, args, options);
  if (result.exitCode !== 0) throw new CommandError([file, ...args], result.exitCode, result.stderr || result.stdout);
  return result;
}

/** Reads a text file, or null when it does not exist. */
export async function readTextIfExists(host: Host, path: string): Promise<string | null> {
  return (await host.stat(path)) === null ? null : host.readText(path);
}

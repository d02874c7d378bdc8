import { posix } from 'node:path';

import type {
  ExecOptions,
  ExecResult,
  FileInfo,
  FileReader,
  FsStats,
  Host,
  HttpRequest,
  HttpResponse,
  HttpServer,
  NoFollowFile,
  NoFollowRead,
  NoFollowWriteOptions,
  ServeHandler,
  ServeOptions,
  TlsProbeRequest,
  TlsProbeResult,
  WriteOptions,
} from '../../src/host/host.ts';
import { UnsafePathError } from '../../src/host/host.ts';

/**
 * A recording Host for unit tests: files live in memory, commands and HTTP
 * requests are answered by scripted handlers, and every call is recorded.
 * A command or request no handler answers fails the test loudly.
 */
export interface FakeFile {
  data: Uint8Array;
  mode: number;
  uid: number;
  gid: number;
  mtimeMs?: number;
}

export type ExecHandler = (file: string, args: readonly string[], options: ExecOptions) => ExecResult | undefined;
export type HttpHandler = (request: HttpRequest) => HttpResponse | undefined;
/** A result, an Error to reject with (a stage that failed), or undefined to leave it to the next handler. */
export type TlsHandler = (request: TlsProbeRequest) => TlsProbeResult | Error | undefined;

/** Errors as node:fs throws them: callers (and the Host contract tests) look at `code`. */
const FS_ERRORS: Readonly<Record<string, string>> = {
  EEXIST: 'file already exists',
  EINVAL: 'invalid argument',
  EISDIR: 'illegal operation on a directory',
  ELOOP: 'too many symbolic links encountered',
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory',
  ENOTEMPTY: 'directory not empty',
  EPERM: 'operation not permitted',
};

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${FS_ERRORS[code] ?? code}, '${path}'`), { code, path });
}

/** What node:fs rm() throws for a directory without `recursive` (empty or not). */
function rmDirectoryError(path: string): Error {
  const message = `Path is a directory: rm returned EISDIR (is a directory) ${path}`;
  return Object.assign(new Error(message), { code: 'ERR_FS_EISDIR', path });
}

/** Adding a directory adds its parents too (tests add /run/systemd/system alone), as mkdir -p would. */
class DirectorySet extends Set<string> {
  override add(path: string): this {
    for (let dir = path; !super.has(dir); dir = posix.dirname(dir)) super.add(dir);
    return this;
  }
}

function newFile(data: string | Uint8Array, mode: number, uid: number, gid: number, mtimeMs: number): FakeFile {
  return { data: typeof data === 'string' ? new TextEncoder().encode(data) : data, mode, uid, gid, mtimeMs };
}

/** A file below a no-follow base: where it is, and its path as messages name it (base as given). */
interface NoFollowTarget {
  readonly path: string;
  readonly shown: string;
}

interface DirectorySettings {
  readonly mode: number;
  readonly uid?: number;
  readonly gid?: number;
}

function pathParts(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

export interface ExecCall {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export class FakeHost implements Host {
  readonly root: string;
  readonly files = new Map<string, FakeFile>();
  /** Adding one adds its parents. */
  readonly directories: Set<string> = new DirectorySet(['/']);
  readonly symlinks = new Map<string, string>();
  /** Mode and owner of directories that have them set (others read as 0755 root). */
  readonly directoryOwners = new Map<string, { mode: number; uid: number; gid: number }>();
  readonly execCalls: ExecCall[] = [];
  readonly httpCalls: HttpRequest[] = [];
  readonly writes: string[] = [];
  readonly execHandlers: ExecHandler[] = [];
  readonly httpHandlers: HttpHandler[] = [];
  readonly tlsCalls: TlsProbeRequest[] = [];
  readonly tlsHandlers: TlsHandler[] = [];
  /** statfs answers by path; a path missing here fails with ENOENT. */
  readonly filesystems = new Map<string, FsStats>();
  /** Servers started with serveHttp, by URL: tests call their handlers directly. */
  readonly servers = new Map<string, ServeHandler>();
  /** Paths of the readers opened with openReader and not closed yet (one entry per reader). */
  readonly openReaders: string[] = [];
  clock = new Date('2026-11-22T12:00:00Z');
  /** What hostname() returns. */
  hostName = 'ip-10-0-1-23';
  /** Every write gets a later mtime, so readers that cache by mtime see the change. */
  #writes = 0;
  slept = 0;

  constructor(files: Record<string, string> = {}, root = '/') {
    this.root = root;
    for (const [path, text] of Object.entries(files)) this.putFile(path, text);
  }

  /**
   * Test setup: puts a file at path (no symlink followed), creating its directories. An existing file is
   * changed in place, as /proc files and appends are: open readers and other hard links see the change.
   */
  putFile(path: string, data: string | Uint8Array, mode = 0o644, uid = 0, gid = 0): void {
    this.directories.add(posix.dirname(path));
    const file = newFile(data, mode, uid, gid, ++this.#writes);
    const existing = this.files.get(path);
    if (existing) Object.assign(existing, file);
    else this.files.set(path, file);
  }

  text(path: string): string | undefined {
    const resolved = this.#resolveOrNull(path, 'follow');
    const file = resolved === null ? undefined : this.files.get(resolved);
    return file && new TextDecoder().decode(file.data);
  }

  onExec(handler: ExecHandler): this {
    this.execHandlers.push(handler);
    return this;
  }

  /** Answers `file` (optionally only when args start with `prefix`) with the given result. */
  answer(file: string, result: Partial<ExecResult>, prefix: readonly string[] = []): this {
    return this.onExec((f, args) =>
      f === file && prefix.every((p, i) => args[i] === p)
        ? { exitCode: 0, stdout: '', stderr: '', ...result }
        : undefined,
    );
  }

  onHttp(handler: HttpHandler): this {
    this.httpHandlers.push(handler);
    return this;
  }

  onTls(handler: TlsHandler): this {
    this.tlsHandlers.push(handler);
    return this;
  }

  commands(): string[] {
    return this.execCalls.map((call) => [call.file, ...call.args].join(' '));
  }

  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    this.execCalls.push({ file, args, ...(options.env ? { env: options.env } : {}) });
    for (const handler of this.execHandlers) {
      const result = handler(file, args, options);
      if (result) return result;
    }
    throw new Error(`FakeHost: no handler for ${[file, ...args].join(' ')}`);
  }

  async localPath(path: string): Promise<string> {
    return this.root === '/' ? path : posix.join(this.root, path);
  }

  async readText(path: string): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path));
  }

  async readBytes(path: string): Promise<Uint8Array> {
    return this.#fileAt(path).data;
  }

  /** Like the real one: the final name is replaced (a symlink there too), its old mode and owner kept unless given. */
  async writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const target = this.#resolve(path, 'nofollow');
    if (this.directories.has(target)) throw fsError('EISDIR', path);
    const previous = await this.stat(target);
    this.#unlink(target);
    this.writes.push(path);
    const { mode = previous?.mode ?? 0o644, uid = previous?.uid ?? 0, gid = previous?.gid ?? 0 } = options;
    this.files.set(target, newFile(data, mode, uid, gid, ++this.#writes));
  }

  async createExclusive(path: string, data: string, options: { readonly mode?: number } = {}): Promise<boolean> {
    const target = this.#resolve(path, 'nofollow');
    if (this.#kindOf(target) !== null) return false;
    this.writes.push(path);
    this.files.set(target, newFile(data, options.mode ?? 0o644, 0, 0, ++this.#writes));
    return true;
  }

  async stat(path: string): Promise<FileInfo | null> {
    const resolved = this.#resolveOrNull(path, 'follow');
    return resolved === null ? null : this.#info(resolved);
  }

  async lstat(path: string): Promise<FileInfo | null> {
    const resolved = this.#resolveOrNull(path, 'nofollow');
    if (resolved === null) return null;
    const link = this.symlinks.get(resolved);
    if (link === undefined) return this.#info(resolved);
    const size = new TextEncoder().encode(link).length;
    return { kind: 'symlink', size, allocated: 0, mode: 0o777, uid: 0, gid: 0, mtimeMs: 0 };
  }

  async readdir(path: string): Promise<string[]> {
    return this.#entries(this.#directoryAt(path));
  }

  /** In reverse: callers must not rely on an order. */
  async listKernelDirectory(path: string): Promise<string[]> {
    return (await this.readdir(path)).reverse();
  }

  /** Creates path and its missing parents with mode (0755 by default); existing directories are left as they are. */
  async mkdir(path: string, options: { readonly mode?: number } = {}): Promise<void> {
    const parts = pathParts(path);
    let current = '/';
    for (const [index, part] of parts.entries()) {
      const next = this.#resolve(posix.join(current, part));
      if (this.files.has(next)) throw fsError(index === parts.length - 1 ? 'EEXIST' : 'ENOTDIR', path);
      if (!this.directories.has(next)) {
        this.directories.add(next);
        this.directoryOwners.set(next, { mode: options.mode ?? 0o755, uid: 0, gid: 0 });
      }
      current = next;
    }
  }

  /** Nothing there is fine; a directory needs `recursive` (empty or not); a final symlink is removed, not followed. */
  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    let target: string;
    try {
      target = this.#resolve(path, 'nofollow');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    if (this.directories.has(target) && options.recursive !== true) throw rmDirectoryError(path);
    this.#unlink(target);
  }

  /**
   * rename(2): a file or symlink replaces anything at `to` but a directory; a directory moves whole, onto
   * nothing or an empty directory.
   */
  async rename(from: string, to: string): Promise<void> {
    const source = this.#resolve(from, 'nofollow');
    const kind = this.#kindOf(source);
    if (kind === null) throw fsError('ENOENT', from);
    const destination = this.#resolve(to, 'nofollow');
    if (source === destination) return;
    const there = this.#kindOf(destination);
    if (kind !== 'directory' && there === 'directory') throw fsError('EISDIR', to);
    if (kind === 'directory') {
      if (destination.startsWith(`${source}/`)) throw fsError('EINVAL', to);
      if (there === 'file' || there === 'symlink') throw fsError('ENOTDIR', to);
      if (there === 'directory' && this.#entries(destination).length > 0) throw fsError('ENOTEMPTY', to);
    }
    this.#unlink(destination);
    this.#move(source, destination);
  }

  /** link(2): the source is not followed; EEXIST (false) is checked before a directory source's EPERM. */
  async linkExclusive(from: string, to: string): Promise<boolean> {
    const source = this.#resolve(from, 'nofollow');
    const kind = this.#kindOf(source);
    if (kind === null) throw fsError('ENOENT', from);
    const destination = this.#resolve(to, 'nofollow');
    if (this.#kindOf(destination) !== null) return false;
    if (kind === 'directory') throw fsError('EPERM', from);
    this.writes.push(to);
    const link = this.symlinks.get(source);
    if (link === undefined) this.files.set(destination, this.files.get(source) as FakeFile);
    else this.symlinks.set(destination, link);
    return true;
  }

  /**
   * Each read reads the file opened as it is then: changes made in place (appendFile, putFile) are seen, a file
   * renamed over it (writeFileAtomic) is not, as with the real descriptor.
   */
  async openReader(path: string): Promise<FileReader> {
    const file = this.#fileAt(path);
    this.openReaders.push(path);
    let open = true;
    return {
      read: async () => {
        if (!open) throw Object.assign(new Error(`EBADF: bad file descriptor, read '${path}'`), { code: 'EBADF' });
        return new TextDecoder().decode(file.data);
      },
      close: async () => {
        if (open) this.openReaders.splice(this.openReaders.indexOf(path), 1);
        open = false;
      },
    };
  }

  async readFileNoFollow(base: string, relative: string, maxBytes: number): Promise<NoFollowFile | null> {
    const found = this.#noFollowPath(base, relative, null);
    if (found === null) return null;
    this.#refuseLinkAt(found, 'follow');
    if (this.directories.has(found.path)) throw new UnsafePathError(`${found.shown} is not a regular file`);
    const file = this.files.get(found.path);
    if (!file) return null;
    return { info: this.#info(found.path) as FileInfo, data: file.data.subarray(0, maxBytes) };
  }

  async readFilesNoFollow(base: string, relatives: readonly string[], maxBytes: number): Promise<NoFollowRead[]> {
    const root = this.#directoryAt(base);
    return Promise.all(
      relatives.map(async (relative) => {
        try {
          const file = await this.readFileNoFollow(base, relative, maxBytes);
          const parts = pathParts(relative).slice(0, -1);
          const paths = parts.map((_, index) => posix.join(root, ...parts.slice(0, index + 1)));
          const directories = paths.map((path) => this.#info(path)).filter((info) => info !== null);
          return { directories, file };
        } catch (error) {
          if (error instanceof UnsafePathError) return { refused: error.message };
          throw error;
        }
      }),
    );
  }

  async writeFileNoFollow(
    base: string,
    relative: string,
    data: string | Uint8Array,
    options: NoFollowWriteOptions,
  ): Promise<void> {
    const { dirMode, mode = 0o644, uid, gid } = options;
    const owner = { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
    // Never null: missing directories are created.
    const found = this.#noFollowPath(base, relative, { mode: dirMode, ...owner }) as NoFollowTarget;
    const taken = this.files.has(found.path) || this.directories.has(found.path) || this.symlinks.has(found.path);
    // O_CREAT|O_EXCL: anything already there, a symlink included (not followed), is EEXIST.
    if (options.exclusive === true && taken) throw fsError('EEXIST', found.shown);
    this.#refuseLinkAt(found, 'replace');
    if (this.directories.has(found.path)) throw fsError('EISDIR', found.shown);
    this.writes.push(posix.join(base, relative));
    this.files.set(found.path, newFile(data, mode, uid ?? 0, gid ?? 0, ++this.#writes));
  }

  async removeNoFollow(base: string, relative: string): Promise<void> {
    const found = this.#noFollowPath(base, relative, null);
    if (found === null) return;
    if (this.directories.has(found.path)) throw new UnsafePathError(`${found.shown} is a directory`);
    this.#unlink(found.path);
  }

  /** Opens as O_APPEND does: a final symlink is followed; the mode applies to a new file only. */
  async appendFile(path: string, data: string, options: { readonly mode?: number } = {}): Promise<void> {
    const target = this.#resolve(path);
    if (this.directories.has(target)) throw fsError('EISDIR', path);
    const previous = this.files.get(target);
    const appended = new TextEncoder().encode(data);
    const joined = new Uint8Array((previous?.data.length ?? 0) + appended.length);
    joined.set(previous?.data ?? new Uint8Array(), 0);
    joined.set(appended, previous?.data.length ?? 0);
    if (previous) Object.assign(previous, { data: joined, mtimeMs: ++this.#writes });
    else this.files.set(target, newFile(joined, options.mode ?? 0o644, 0, 0, ++this.#writes));
  }

  async statfs(path: string): Promise<FsStats> {
    const stats = this.filesystems.get(path);
    if (!stats) throw Object.assign(new Error(`ENOENT: statfs ${path}`), { code: 'ENOENT' });
    return stats;
  }

  async serveHttp(options: ServeOptions, handler: ServeHandler): Promise<HttpServer> {
    const url = `http://${options.address}:${options.port || 40000 + this.servers.size}`;
    this.servers.set(url, handler);
    return { url, close: async () => void this.servers.delete(url) };
  }

  async http(request: HttpRequest): Promise<HttpResponse> {
    this.httpCalls.push(request);
    for (const handler of this.httpHandlers) {
      const response = handler(request);
      if (response) return response;
    }
    throw new Error(`FakeHost: connection refused for ${request.method ?? 'GET'} ${request.url}`);
  }

  async tlsProbe(request: TlsProbeRequest): Promise<TlsProbeResult> {
    this.tlsCalls.push(request);
    for (const handler of this.tlsHandlers) {
      const result = handler(request);
      if (result instanceof Error) throw result;
      if (result) return result;
    }
    throw new Error(`TCP connect to ${request.host}:${request.port} failed: connect ECONNREFUSED (FakeHost)`);
  }

  now(): Date {
    return new Date(this.clock);
  }

  async sleep(ms: number): Promise<void> {
    this.slept += ms;
    this.clock = new Date(this.clock.getTime() + ms);
  }

  hostname(): string {
    return this.hostName;
  }

  /**
   * Where path leads, as the kernel resolves it: each symlink on the way followed, a final one only with
   * 'follow'. A missing directory on the way is ENOENT, a file there ENOTDIR.
   */
  #resolve(path: string, final: 'follow' | 'nofollow' = 'follow'): string {
    const pending = pathParts(path);
    let current = '/';
    for (let links = 0; pending.length > 0;) {
      const part = pending.shift() as string;
      const next = part === '..' ? posix.dirname(current) : posix.join(current, part);
      const target = this.symlinks.get(next);
      if (target !== undefined && (pending.length > 0 || final === 'follow')) {
        if (++links > 40) throw fsError('ELOOP', path);
        if (posix.isAbsolute(target)) current = '/';
        pending.unshift(...pathParts(target));
        continue;
      }
      if (pending.length > 0 && !this.directories.has(next)) {
        throw fsError(this.files.has(next) ? 'ENOTDIR' : 'ENOENT', path);
      }
      current = next;
    }
    return current;
  }

  /** Null where the real Host's stat and lstat say nothing is there: ENOENT and ENOTDIR. */
  #resolveOrNull(path: string, final: 'follow' | 'nofollow'): string | null {
    try {
      return this.#resolve(path, final);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw error;
    }
  }

  #kindOf(resolved: string): 'file' | 'directory' | 'symlink' | null {
    if (this.symlinks.has(resolved)) return 'symlink';
    if (this.files.has(resolved)) return 'file';
    return this.directories.has(resolved) ? 'directory' : null;
  }

  #fileAt(path: string): FakeFile {
    const resolved = this.#resolve(path);
    const file = this.files.get(resolved);
    if (!file) throw fsError(this.directories.has(resolved) ? 'EISDIR' : 'ENOENT', path);
    return file;
  }

  #directoryAt(path: string): string {
    const resolved = this.#resolve(path);
    if (!this.directories.has(resolved)) throw fsError(this.files.has(resolved) ? 'ENOTDIR' : 'ENOENT', path);
    return resolved;
  }

  /** Names directly in a directory (files, directories and symlinks), sorted. */
  #entries(directory: string): string[] {
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.directories, ...this.symlinks.keys()]) {
      if (entry !== directory && posix.dirname(entry) === directory) names.add(posix.basename(entry));
    }
    return [...names].sort();
  }

  /** Removes what is at a resolved path, with everything below it. */
  #unlink(resolved: string): void {
    const inside = (entry: string) => entry === resolved || entry.startsWith(`${resolved}/`);
    for (const map of [this.files, this.symlinks, this.directoryOwners]) {
      for (const entry of [...map.keys()].filter(inside)) map.delete(entry);
    }
    for (const entry of [...this.directories].filter(inside)) this.directories.delete(entry);
  }

  /** Gives what is at `from` and below it the name `to` (both resolved, `to` free). */
  #move(from: string, to: string): void {
    const renamed = (entry: string) =>
      entry === from ? to : entry.startsWith(`${from}/`) ? `${to}${entry.slice(from.length)}` : null;
    for (const map of [this.files, this.symlinks, this.directoryOwners] as Map<string, unknown>[]) {
      for (const [entry, value] of [...map]) {
        const name = renamed(entry);
        if (name === null) continue;
        map.delete(entry);
        map.set(name, value);
      }
    }
    for (const entry of [...this.directories]) {
      const name = renamed(entry);
      if (name === null) continue;
      this.directories.delete(entry);
      this.directories.add(name);
    }
  }

  /**
   * base/relative like the real no-follow walk: base resolved as usual (ENOENT when missing), then each
   * directory below it checked without following; `create` makes missing ones and sets all of them. Null when
   * one is missing and not to be created.
   */
  #noFollowPath(base: string, relative: string, create: DirectorySettings | null): NoFollowTarget | null {
    const parts = pathParts(relative);
    const name = parts.pop();
    if (name === undefined || name === '..' || parts.includes('..')) {
      throw new UnsafePathError(`${JSON.stringify(relative)} is not a plain relative path`);
    }
    let path = this.#directoryAt(base);
    let shown = base;
    for (const part of parts) {
      [path, shown] = [posix.join(path, part), posix.join(shown, part)];
      if (this.symlinks.has(path)) throw new UnsafePathError(`${shown} is a symbolic link; refusing to follow it`);
      if (this.files.has(path)) throw new UnsafePathError(`${shown} is not a directory`);
      if (create === null && !this.directories.has(path)) return null;
      if (create !== null) this.#settleDirectory(path, create);
    }
    return { path: posix.join(path, name), shown: posix.join(shown, name) };
  }

  /** Creates the directory if missing and sets its mode, and its owner where given. */
  #settleDirectory(path: string, settings: DirectorySettings): void {
    const current = this.#info(path);
    const { mode, uid = current?.uid ?? 0, gid = current?.gid ?? 0 } = settings;
    this.directories.add(path);
    this.directoryOwners.set(path, { mode, uid, gid });
  }

  /** A symlink at the final name is refused ('follow': reading through it, 'replace': writing over it). */
  #refuseLinkAt(found: NoFollowTarget, doing: 'follow' | 'replace'): void {
    if (this.symlinks.has(found.path)) {
      throw new UnsafePathError(`${found.shown} is a symbolic link; refusing to ${doing} it`);
    }
  }

  #info(path: string): FileInfo | null {
    const file = this.files.get(path);
    if (file)
      return {
        kind: 'file',
        size: file.data.length,
        allocated: file.data.length,
        mode: file.mode,
        uid: file.uid,
        gid: file.gid,
        mtimeMs: file.mtimeMs ?? 0,
      };
    if (this.directories.has(path))
      return {
        kind: 'directory',
        size: 0,
        allocated: 0,
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtimeMs: 0,
        ...this.directoryOwners.get(path),
      };
    return null;
  }
}

export function jsonResponse(status: number, body: unknown): HttpResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: new TextEncoder().encode(JSON.stringify(body)),
  };
}

export function textResponse(status: number, body: string): HttpResponse {
  return { status, headers: {}, body: new TextEncoder().encode(body) };
}

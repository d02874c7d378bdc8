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

export interface ExecCall {
  readonly file: string;
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
}

export class FakeHost implements Host {
  readonly root: string;
  readonly files = new Map<string, FakeFile>();
  readonly directories = new Set<string>(['/']);
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
  /** Every write gets a later mtime, so readers that cache by mtime see the change. */
  #writes = 0;
  slept = 0;

  constructor(files: Record<string, string> = {}, root = '/') {
    this.root = root;
    for (const [path, text] of Object.entries(files)) this.putFile(path, text);
  }

  putFile(path: string, data: string | Uint8Array, mode = 0o644, uid = 0, gid = 0): void {
    this.#ensureParents(path);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.files.set(path, { data: bytes, mode, uid, gid, mtimeMs: ++this.#writes });
  }

  text(path: string): string | undefined {
    const file = this.files.get(this.#follow(path));
    return file && new TextDecoder().decode(file.data);
  }

  onExec(handler: ExecHandler): this {
    this.execHandlers.push(handler);
    return this;
  }

  /** Answers `file` (optionally only when args start with `prefix`) with the given result. */
  answer(file: string, result: Partial<ExecResult>, prefix: readonly string[] = []): this {
    return this.onExec((f, args) =>
      f === file && prefix.every((p, i) => args[i] === p) ? { exitCode: 0, stdout: '', stderr: '', ...result } : undefined,
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
    const file = this.files.get(this.#follow(path));
    if (!file) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    return file.data;
  }

  async writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    if (!this.directories.has(posix.dirname(path))) throw Object.assign(new Error(`ENOENT: ${posix.dirname(path)}`), { code: 'ENOENT' });
    const previous = this.files.get(path);
    this.symlinks.delete(path);
    this.writes.push(path);
    this.putFile(path, data, options.mode ?? previous?.mode ?? 0o644, options.uid ?? previous?.uid ?? 0, options.gid ?? previous?.gid ?? 0);
  }

  async createExclusive(path: string, data: string, options: WriteOptions = {}): Promise<boolean> {
    if ((await this.lstat(path)) !== null) return false;
    await this.writeFileAtomic(path, data, options);
    return true;
  }

  async stat(path: string): Promise<FileInfo | null> {
    return this.#info(this.#follow(path));
  }

  async lstat(path: string): Promise<FileInfo | null> {
    if (this.symlinks.has(path)) return { kind: 'symlink', size: 0, allocated: 0, mode: 0o777, uid: 0, gid: 0, mtimeMs: 0 };
    return this.#info(path);
  }

  async readdir(path: string): Promise<string[]> {
    const dir = this.#follow(path);
    if (!this.directories.has(dir)) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
    const names = new Set<string>();
    for (const entry of [...this.files.keys(), ...this.directories, ...this.symlinks.keys()]) {
      if (entry !== dir && posix.dirname(entry) === dir) names.add(posix.basename(entry));
    }
    return [...names].sort();
  }

  /** In reverse: callers must not rely on an order. */
  async listKernelDirectory(path: string): Promise<string[]> {
    return (await this.readdir(path)).reverse();
  }

  async mkdir(path: string): Promise<void> {
    this.#ensureParents(posix.join(path, 'x'));
  }

  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    const inside = (entry: string) => entry === path || (options.recursive === true && entry.startsWith(`${path}/`));
    for (const entry of [...this.files.keys()].filter(inside)) this.files.delete(entry);
    for (const entry of [...this.directories].filter(inside)) this.directories.delete(entry);
    for (const entry of [...this.symlinks.keys()].filter(inside)) this.symlinks.delete(entry);
  }

  async rename(from: string, to: string): Promise<void> {
    const file = this.files.get(from);
    if (!file) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
    this.files.delete(from);
    this.files.set(to, file);
  }

  async linkExclusive(from: string, to: string): Promise<boolean> {
    if ((await this.lstat(to)) !== null) return false;
    const file = this.files.get(from);
    if (!file) throw Object.assign(new Error(`ENOENT: ${from}`), { code: 'ENOENT' });
    this.writes.push(to);
    this.files.set(to, file);
    return true;
  }

  /** Each read reads the in-memory file (through readText) as it is then. */
  async openReader(path: string): Promise<FileReader> {
    await this.readText(path);
    this.openReaders.push(path);
    let open = true;
    return {
      read: () => (open ? this.readText(path) : Promise.reject(new Error(`EBADF: ${path} was closed`))),
      close: async () => {
        if (open) this.openReaders.splice(this.openReaders.indexOf(path), 1);
        open = false;
      },
    };
  }

  async readFileNoFollow(base: string, relative: string, maxBytes: number): Promise<NoFollowFile | null> {
    const path = this.#noFollowPath(base, relative);
    if (this.symlinks.has(path)) throw new UnsafePathError(`${path} is a symbolic link; refusing to follow it`);
    const file = this.files.get(path);
    if (!file) return null;
    return { info: this.#info(path) as FileInfo, data: file.data.subarray(0, maxBytes) };
  }

  async writeFileNoFollow(base: string, relative: string, data: string | Uint8Array, options: NoFollowWriteOptions): Promise<void> {
    const path = this.#noFollowPath(base, relative);
    if (this.symlinks.has(path)) throw new UnsafePathError(`${path} is a symbolic link; refusing to replace it`);
    for (let dir = posix.dirname(path); dir !== base && dir.startsWith(`${base}/`); dir = posix.dirname(dir)) {
      this.directories.add(dir);
      this.directoryOwners.set(dir, { mode: options.dirMode, uid: options.uid ?? 0, gid: options.gid ?? 0 });
    }
    this.writes.push(path);
    this.putFile(path, data, options.mode ?? 0o644, options.uid ?? 0, options.gid ?? 0);
  }

  async removeNoFollow(base: string, relative: string): Promise<void> {
    const path = this.#noFollowPath(base, relative);
    this.symlinks.delete(path);
    this.files.delete(path);
  }

  async appendFile(path: string, data: string, options: { readonly mode?: number } = {}): Promise<void> {
    if (!this.directories.has(posix.dirname(path))) throw Object.assign(new Error(`ENOENT: ${posix.dirname(path)}`), { code: 'ENOENT' });
    const previous = this.files.get(path);
    const appended = new TextEncoder().encode(data);
    const joined = new Uint8Array((previous?.data.length ?? 0) + appended.length);
    joined.set(previous?.data ?? new Uint8Array(), 0);
    joined.set(appended, previous?.data.length ?? 0);
    this.putFile(path, joined, previous?.mode ?? options.mode ?? 0o644);
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

  #follow(path: string): string {
    let current = path;
    for (let i = 0; i < 40 && this.symlinks.has(current); i++) {
      const target = this.symlinks.get(current) as string;
      current = posix.isAbsolute(target) ? target : posix.join(posix.dirname(current), target);
    }
    return current;
  }

  /** The path, after checking that no directory between base and it is a symlink. */
  #noFollowPath(base: string, relative: string): string {
    const path = posix.join(base, relative);
    for (let dir = posix.dirname(path); dir.startsWith(`${base}/`); dir = posix.dirname(dir)) {
      if (this.symlinks.has(dir)) throw new UnsafePathError(`${dir} is a symbolic link; refusing to follow it`);
    }
    return path;
  }

  #info(path: string): FileInfo | null {
    const file = this.files.get(path);
    if (file) return { kind: 'file', size: file.data.length, allocated: file.data.length, mode: file.mode, uid: file.uid, gid: file.gid, mtimeMs: file.mtimeMs ?? 0 };
    if (this.directories.has(path)) return { kind: 'directory', size: 0, allocated: 0, mode: 0o755, uid: 0, gid: 0, mtimeMs: 0, ...this.directoryOwners.get(path) };
    return null;
  }

  #ensureParents(path: string): void {
    for (let dir = posix.dirname(path); !this.directories.has(dir); dir = posix.dirname(dir)) this.directories.add(dir);
  }
}

export function jsonResponse(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(JSON.stringify(body)) };
}

export function textResponse(status: number, body: string): HttpResponse {
  return { status, headers: {}, body: new TextEncoder().encode(body) };
}

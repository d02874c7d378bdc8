import { posix } from 'node:path';

import type { ExecOptions, ExecResult, FileInfo, Host, HttpRequest, HttpResponse, WriteOptions } from '../../src/host/host.ts';

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
}

export type ExecHandler = (file: string, args: readonly string[], options: ExecOptions) => ExecResult | undefined;
export type HttpHandler = (request: HttpRequest) => HttpResponse | undefined;

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
  readonly execCalls: ExecCall[] = [];
  readonly httpCalls: HttpRequest[] = [];
  readonly writes: string[] = [];
  readonly execHandlers: ExecHandler[] = [];
  readonly httpHandlers: HttpHandler[] = [];
  clock = new Date('2026-11-22T12:00:00Z');
  slept = 0;

  constructor(files: Record<string, string> = {}, root = '/') {
    this.root = root;
    for (const [path, text] of Object.entries(files)) this.putFile(path, text);
  }

  putFile(path: string, data: string | Uint8Array, mode = 0o644, uid = 0, gid = 0): void {
    this.#ensureParents(path);
    this.files.set(path, { data: typeof data === 'string' ? new TextEncoder().encode(data) : data, mode, uid, gid });
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

  async http(request: HttpRequest): Promise<HttpResponse> {
    this.httpCalls.push(request);
    for (const handler of this.httpHandlers) {
      const response = handler(request);
      if (response) return response;
    }
    throw new Error(`FakeHost: connection refused for ${request.method ?? 'GET'} ${request.url}`);
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

  #info(path: string): FileInfo | null {
    const file = this.files.get(path);
    if (file) return { kind: 'file', size: file.data.length, allocated: file.data.length, mode: file.mode, uid: file.uid, gid: file.gid, mtimeMs: 0 };
    if (this.directories.has(path)) return { kind: 'directory', size: 0, allocated: 0, mode: 0o755, uid: 0, gid: 0, mtimeMs: 0 };
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

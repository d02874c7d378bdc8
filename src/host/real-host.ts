import { readdirSync, readSync, type Stats } from 'node:fs';
import {
  appendFile,
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  statfs,
} from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { CommandError, MissingToolError } from '../core/errors.ts';
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
  TlsCredentials,
  TlsProbeRequest,
  TlsProbeResult,
  WriteOptions,
} from './host.ts';
import { UnsafePathError } from './host.ts';
import { syncDirectory, writeAtomically } from './atomic-write.ts';
import { nullIfMissing } from './missing.ts';
import { readFilesBelow, removeFileIn, withDirectoryBelow, writeFileIn } from './no-follow.ts';
import { resolveParentUnderRoot, resolveUnderRoot } from './root-path.ts';
import { retarget } from './retarget.ts';
import { MAX_OUTPUT_CHARS, runProcess } from './child-process.ts';
import { debianPackageOf } from './tool-packages.ts';

const DEFAULT_EXEC_TIMEOUT_MS = 15 * 60_000;
const DEFAULT_HTTP_TIMEOUT_MS = 10_000;
/** Commands get a fixed, predictable environment; the operator's proxy settings pass through. */
const BASE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
const PASSED_ENV = ['http_proxy', 'https_proxy', 'no_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'];

export type ExecObserver = (command: readonly string[]) => void;

export class RealHost implements Host {
  readonly root: string;
  readonly #onExec: ExecObserver;

  constructor(root = '/', onExec: ExecObserver = () => {}) {
    this.root = root === '/' ? '/' : posix.resolve(root);
    this.#onExec = onExec;
  }

  async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    const [command, commandArgs] = options.target === 'local' ? [file, args] : retarget(this.root, file, args);
    const argv = [command, ...commandArgs];
    this.#onExec(argv);
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const env = { ...BASE_ENV, ...passedEnv(), ...options.env };
    const end = await runProcess(command, commandArgs, { ...options, env, timeoutMs });
    const { stderr } = end;
    if (options.signal?.aborted && end.exitCode !== 0) {
      throw new CommandError(argv, undefined, stderr, { reason: 'was stopped: the agent is stopping' });
    }
    if (end.timedOut) throw new CommandError(argv, undefined, stderr, { reason: `timed out after ${timeoutMs} ms` });
    if (end.overflowed !== null) {
      const reason = `was stopped: its ${end.overflowed} passed ${MAX_OUTPUT_CHARS} characters`;
      throw new CommandError(argv, undefined, stderr, { reason });
    }
    if (end.lineError !== null) throw end.lineError;
    if (end.startError === 'ENOENT' && options.cwd === undefined) {
      throw new MissingToolError(argv, debianPackageOf(command));
    }
    // Killed, not unstartable: by the OOM killer (the unit's MemoryMax), an operator, or itself.
    if (end.signal !== null) throw new CommandError(argv, undefined, stderr, { signal: end.signal });
    if (end.exitCode === null) {
      throw new CommandError(argv, undefined, stderr, { reason: `could not be started (${end.startError})` });
    }
    return { exitCode: end.exitCode, stdout: end.stdout, stderr };
  }

  localPath(path: string): Promise<string> {
    return this.#resolve(path);
  }

  async readText(path: string): Promise<string> {
    return readFile(await this.#resolve(path), 'utf8');
  }

  async readBytes(path: string): Promise<Uint8Array> {
    return readFile(await this.#resolve(path));
  }

  async writeFileAtomic(path: string, data: string | Uint8Array, options: WriteOptions = {}): Promise<void> {
    const target = await resolveParentUnderRoot(this.root, path);
    // A symlink at path is replaced; the mode and owner kept are its target's, found inside the root.
    const previous = await statOrNull(stat, await this.#resolve(path));
    const mode = options.mode ?? (previous ? previous.mode & 0o7777 : 0o644);
    const owner = { uid: options.uid ?? previous?.uid, gid: options.gid ?? previous?.gid };
    await writeAtomically(posix.dirname(target), posix.basename(target), data, { mode, ...owner });
  }

  async createExclusive(path: string, data: string, options: { readonly mode?: number } = {}): Promise<boolean> {
    let handle;
    try {
      handle = await open(await resolveParentUnderRoot(this.root, path), 'wx', options.mode ?? 0o644);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  }

  async stat(path: string): Promise<FileInfo | null> {
    return statOrNull(stat, await this.#resolve(path));
  }

  async lstat(path: string): Promise<FileInfo | null> {
    return statOrNull(lstat, await resolveParentUnderRoot(this.root, path));
  }

  async readdir(path: string): Promise<string[]> {
    return (await readdir(await this.#resolve(path))).sort();
  }

  async listKernelDirectory(path: string): Promise<string[]> {
    return readdirSync(await this.#resolve(path));
  }

  async mkdir(path: string, options: { readonly mode?: number } = {}): Promise<void> {
    await mkdir(await this.#resolve(path), { recursive: true, mode: options.mode ?? 0o755 });
  }

  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    await rm(await resolveParentUnderRoot(this.root, path), { force: true, recursive: options.recursive ?? false });
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(await resolveParentUnderRoot(this.root, from), await resolveParentUnderRoot(this.root, to));
  }

  async linkExclusive(from: string, to: string): Promise<boolean> {
    const target = await resolveParentUnderRoot(this.root, to);
    try {
      await link(await resolveParentUnderRoot(this.root, from), target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    await syncDirectory(posix.dirname(target));
    return true;
  }

  async openReader(path: string): Promise<FileReader> {
    return new HandleReader(await open(await this.#resolve(path), 'r'));
  }

  async appendFile(path: string, data: string, options: { readonly mode?: number } = {}): Promise<void> {
    // Resolved whole: the kernel would follow a final absolute symlink out of an image root.
    await appendFile(await this.#resolve(path), data, { mode: options.mode ?? 0o644 });
  }

  async statfs(path: string): Promise<FsStats> {
    const info = await statfs(await this.#resolve(path));
    return {
      type: info.type,
      blockSize: info.bsize,
      blocks: info.blocks,
      blocksFree: info.bfree,
      blocksAvailable: info.bavail,
      files: info.files,
      filesFree: info.ffree,
    };
  }

  serveHttp(options: ServeOptions, handler: ServeHandler): Promise<HttpServer> {
    return serveHttp(options, handler);
  }

  async readFileNoFollow(base: string, relative: string, maxBytes: number): Promise<NoFollowFile | null> {
    const [found] = (await this.readFilesNoFollow(base, [relative], maxBytes)) as [NoFollowRead];
    if ('refused' in found) throw new UnsafePathError(found.refused);
    return found.file;
  }

  async readFilesNoFollow(base: string, relatives: readonly string[], maxBytes: number): Promise<NoFollowRead[]> {
    const found = await readFilesBelow(base, await this.#resolve(base), relatives, maxBytes);
    return found.map((read) =>
      'refused' in read
        ? read
        : {
            directories: read.directories.map(toFileInfo),
            file: read.file && { info: toFileInfo(read.file.stats), data: read.file.data },
          },
    );
  }

  async writeFileNoFollow(
    base: string,
    relative: string,
    data: string | Uint8Array,
    options: NoFollowWriteOptions,
  ): Promise<void> {
    const { dirMode, mode = 0o644, uid, gid, durable, exclusive } = options;
    const owner = { ...(uid === undefined ? {} : { uid }), ...(gid === undefined ? {} : { gid }) };
    const choices = {
      ...(durable === undefined ? {} : { durable }),
      ...(exclusive === undefined ? {} : { exclusive }),
    };
    const file = { mode, ...owner, ...choices };
    await withDirectoryBelow(
      base,
      await this.#resolve(base),
      relative,
      { mode: dirMode, ...owner },
      (directory, name, shown) => writeFileIn(directory, name, shown, data, file),
    );
  }

  async removeNoFollow(base: string, relative: string): Promise<void> {
    await withDirectoryBelow(base, await this.#resolve(base), relative, null, removeFileIn);
  }

  /**
   * node:http(s) for every request, never fetch: one code path (unix sockets,
   * CA bundles, body limits), redirects are not followed, and undici (about
   * 12 MB of RSS) is never loaded by the daemon.
   */
  http(request: HttpRequest): Promise<HttpResponse> {
    return nodeRequest(request);
  }

  async tlsProbe(request: TlsProbeRequest): Promise<TlsProbeResult> {
    const { probeTls } = await import('./tls-probe.ts');
    return probeTls(request);
  }

  now(): Date {
    return new Date();
  }

  async sleep(ms: number): Promise<void> {
    await delay(ms);
  }

  hostname(): string {
    return osHostname();
  }

  #resolve(path: string): Promise<string> {
    return resolveUnderRoot(this.root, path);
  }
}

/**
 * Reads with pread from offset 0 into a buffer kept between reads. A /proc
 * (seq_file) file is generated afresh when read from offset 0, and one read
 * may return only part of it (a page's worth of records), so it reads on until
 * a read returns nothing. The reads are synchronous: the kernel generates /proc
 * and /sys files from memory, never waiting for a disk, and a round trip
 * through libuv's thread pool costs three times the read itself (0.27 ms
 * against 0.08 ms for a sample's five files, docs/benchmarks.md).
 */
class HandleReader implements FileReader {
  readonly #handle: FileHandle;
  #buffer = Buffer.allocUnsafe(16 * 1024);

  constructor(handle: FileHandle) {
    this.#handle = handle;
  }

  async read(): Promise<string> {
    let length = 0;
    for (;;) {
      if (length === this.#buffer.length) {
        const larger = Buffer.allocUnsafe(this.#buffer.length * 2);
        this.#buffer.copy(larger, 0, 0, length);
        this.#buffer = larger;
      }
      const bytesRead = readSync(this.#handle.fd, this.#buffer, length, this.#buffer.length - length, length);
      if (bytesRead === 0) return this.#buffer.toString('utf8', 0, length);
      length += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.#handle.close();
  }
}

/**
 * node:http(s) for what fetch cannot do: unix sockets, a CA bundle of our choice, a cap on the reply size.
 * They load at the first request, node:https and node:tls only for an https URL (25 ms and 8 MB otherwise
 * at every start, also of commands that send nothing). The
 * deadline is a plain timer: AbortSignal.timeout costs a quarter of a refused request's CPU, which the
 * metrics sampler pays every sample while the ECS agent is away.
 */
function nodeRequest(request: HttpRequest): Promise<HttpResponse> {
  const url = new URL(request.url);
  const send = process.getBuiltinModule(url.protocol === 'https:' ? 'node:https' : 'node:http').request;
  const limit = request.maxResponseBytes ?? Infinity;
  const headers = {
    ...request.headers,
    ...(request.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.body)) }),
  };
  const ca = request.ca === 'system' ? systemCas() : request.ca;
  const timeoutMs = request.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  let deadline: NodeJS.Timeout | undefined;
  const exchange = new Promise<HttpResponse>((resolve, reject) => {
    const outgoing = send(
      url,
      {
        method: request.method ?? 'GET',
        headers,
        ...(request.socketPath === undefined ? {} : { socketPath: request.socketPath }),
        ...(ca === undefined ? {} : { ca }),
      },
      (response) => {
        readLimited(response, limit).then(
          (body) => resolve({ status: response.statusCode ?? 0, headers: flatHeaders(response), body }),
          reject,
        );
      },
    );
    outgoing.on('error', reject);
    deadline = setTimeout(() => outgoing.destroy(timedOut(url, timeoutMs)), timeoutMs);
    deadline.unref();
    outgoing.end(request.body);
  });
  return exchange.finally(() => clearTimeout(deadline));
}

/** ETIMEDOUT, as node names a socket's timeout: what callers (the AWS SDK's retries among them) tell apart. */
function timedOut(url: URL, timeoutMs: number): Error {
  return Object.assign(new Error(`no complete reply from ${url.origin} within ${timeoutMs} ms`), { code: 'ETIMEDOUT' });
}

class BodyTooLarge extends Error {}

/**
 * Collects a body up to limit; beyond it, a reply is cut off and a request is read to its end and discarded (so 413 can
 * be answered).
 */
function readLimited(
  stream: IncomingMessage,
  limit: number,
  overLimit: 'destroy' | 'discard' = 'destroy',
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let discarding = false;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (overLimit === 'destroy') stream.destroy(new BodyTooLarge(`reply body larger than ${limit} bytes`));
      else if (!discarding) {
        discarding = true;
        chunks.length = 0;
        reject(new BodyTooLarge(`request body larger than ${limit} bytes`));
      }
    });
    stream.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    stream.on('error', reject);
    stream.on('aborted', () => reject(new Error('reply aborted')));
  });
}

function flatHeaders(message: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers))
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  return headers;
}

/** The operating system's trust store; Node's bundled CAs when it has none. */
function systemCas(): string[] | undefined {
  const cas = process.getBuiltinModule('node:tls').getCACertificates('system');
  return cas.length > 0 ? cas : undefined;
}

async function serveHttp(options: ServeOptions, handler: ServeHandler): Promise<HttpServer> {
  const serve = (incoming: IncomingMessage, outgoing: ServerResponse) => {
    readLimited(incoming, options.maxBodyBytes, 'discard')
      .then((body) =>
        handler({ method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers: flatHeaders(incoming), body }),
      )
      .catch((error: unknown) => ({
        status: error instanceof BodyTooLarge ? 413 : 500,
        headers: { 'content-type': 'text/plain' },
        body: new TextEncoder().encode(`${(error as Error).message}\n`),
      }))
      .then((reply) => {
        if (outgoing.destroyed) return;
        outgoing.writeHead(reply.status, reply.headers);
        outgoing.end(reply.body);
      });
  };
  const { tls } = options;
  const server =
    tls === undefined
      ? process.getBuiltinModule('node:http').createServer(serve)
      : process.getBuiltinModule('node:https').createServer(tlsOptions(tls), serve);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(options.port, options.address, resolve),
  );
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${address.includes(':') ? `[${address}]` : address}:${port}`,
    ...(tls === undefined ? {} : { setTls: renewTls(server as HttpsServer) }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A client certificate is asked for only with a CA to check it against, and then required. */
function tlsOptions(tls: TlsCredentials) {
  const server = { cert: tls.cert, key: tls.key, minVersion: tls.minVersion };
  const clientAuth = { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true };
  return tls.clientCa === undefined ? server : { ...server, ...clientAuth };
}

/** New connections of an HTTPS server use these credentials from now on. */
function renewTls(server: HttpsServer): (tls: TlsCredentials) => void {
  return (tls) => server.setSecureContext(tlsOptions(tls));
}

function passedEnv(): Record<string, string> {
  return Object.fromEntries(PASSED_ENV.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

async function statOrNull(fn: (path: string) => Promise<Stats>, path: string): Promise<FileInfo | null> {
  const info = await nullIfMissing(fn(path));
  return info && toFileInfo(info);
}

function toFileInfo(info: Stats): FileInfo {
  const kind = info.isFile() ? 'file' : info.isDirectory() ? 'directory' : info.isSymbolicLink() ? 'symlink' : 'other';
  return {
    kind,
    size: info.size,
    allocated: info.blocks * 512,
    mode: info.mode & 0o7777,
    uid: info.uid,
    gid: info.gid,
    mtimeMs: info.mtimeMs,
  };
}

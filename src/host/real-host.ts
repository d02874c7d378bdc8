import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { posix } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { execa } from 'execa';

import { CommandError } from '../core/errors.ts';
import type {
  ExecOptions,
  ExecResult,
  FileInfo,
  Host,
  HttpRequest,
  HttpResponse,
  WriteOptions,
} from './host.ts';
import { resolveParentUnderRoot, resolveUnderRoot } from './root-path.ts';
import { retarget } from './retarget.ts';

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
    const [command, commandArgs] =
      options.target === 'local' ? [file, args] : retarget(this.root, file, args);
    const argv = [command, ...commandArgs];
    this.#onExec(argv);
    const result = await execa(command, commandArgs, {
      reject: false,
      extendEnv: false,
      env: { ...BASE_ENV, ...passedEnv(), ...options.env },
      timeout: options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      stripFinalNewline: false,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    if (result.timedOut) throw new CommandError(argv, undefined, String(result.stderr), `timed out after ${options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS} ms`);
    if (result.exitCode === undefined) throw new CommandError(argv, undefined, String(result.stderr), `could not be started (${result.code ?? result.shortMessage})`);
    return { exitCode: result.exitCode, stdout: String(result.stdout), stderr: String(result.stderr) };
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
    const previous = await statOrNull(stat, target);
    const mode = options.mode ?? (previous ? previous.mode & 0o7777 : 0o644);
    const uid = options.uid ?? previous?.uid;
    const gid = options.gid ?? previous?.gid;
    const temp = posix.join(posix.dirname(target), `.${posix.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx', mode);
      try {
        await handle.writeFile(data);
        if (uid !== undefined || gid !== undefined) await handle.chown(uid ?? -1, gid ?? -1);
        await handle.chmod(mode); // the umask must not weaken or widen what was asked for
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    await syncDirectory(posix.dirname(target));
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

  async mkdir(path: string, options: { readonly mode?: number } = {}): Promise<void> {
    await mkdir(await this.#resolve(path), { recursive: true, mode: options.mode ?? 0o755 });
  }

  async rm(path: string, options: { readonly recursive?: boolean } = {}): Promise<void> {
    await rm(await resolveParentUnderRoot(this.root, path), { force: true, recursive: options.recursive ?? false });
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(await resolveParentUnderRoot(this.root, from), await resolveParentUnderRoot(this.root, to));
  }

  async http(request: HttpRequest): Promise<HttpResponse> {
    const response = await fetch(request.url, {
      method: request.method ?? 'GET',
      headers: request.headers ?? {},
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(request.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS),
      redirect: 'error',
    });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      headers[key] = value;
    });
    return { status: response.status, headers, body: new Uint8Array(await response.arrayBuffer()) };
  }

  now(): Date {
    return new Date();
  }

  async sleep(ms: number): Promise<void> {
    await delay(ms);
  }

  #resolve(path: string): Promise<string> {
    return resolveUnderRoot(this.root, path);
  }
}

function passedEnv(): Record<string, string> {
  return Object.fromEntries(PASSED_ENV.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

async function statOrNull(fn: (path: string) => Promise<Stats>, path: string): Promise<FileInfo | null> {
  try {
    return toFileInfo(await fn(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw error;
  }
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

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

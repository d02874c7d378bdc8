/**
 * A Debian 12 container booted with systemd as PID 1 (systemd-nspawn), for tests that need the real init
 * system: units started and stopped, EnvironmentFile= parsed by systemd itself, sd_notify, journald.
 * Each container runs on its own copy of the suite's systemd root, with no network (--private-network),
 * and is stopped by the PID of its nspawn process when the test ends. Commands run inside through nsenter
 * with a clean environment, so nothing of this process's environment leaks in.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { TestContext } from 'node:test';

import { SYSTEMD_ROOT, SYSTEMD_ROOT_READY } from './paths.ts';
import { requireRoot, scratchDir } from './scratch.ts';

const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const BOOT_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;

export interface ContainerResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ContainerExecOptions {
  readonly input?: string | Buffer;
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface Container {
  /** The container's root directory on this machine: files written here are seen inside at the same path. */
  readonly root: string;
  /** The PID (on this machine) of the container's systemd. */
  readonly pid1: number;
  exec(argv: readonly string[], options?: ContainerExecOptions): ContainerResult;
  /** Like exec, but throws with the command's output unless it exits 0; returns stdout. */
  run(argv: readonly string[], options?: ContainerExecOptions): string;
  /** Stops the container (idempotent); also done when the test ends. */
  stop(): Promise<void>;
}

export interface BootOptions {
  /** Changes to the copied root before it boots (install a package, write files, mask units). */
  readonly prepare?: (root: string) => void;
}

/** Boots a fresh copy of the systemd fixture; resolves once systemd reports the system up. */
export async function bootContainer(t: TestContext, options: BootOptions = {}): Promise<Container> {
  requireRoot();
  if (!existsSync(SYSTEMD_ROOT_READY))
    throw new Error(`the systemd root fixture is missing at ${SYSTEMD_ROOT}: run npm test, whose setup builds it`);
  const work = scratchDir(t, 'eha-nspawn-');
  const root = `${work}/root`;
  execFileSync('cp', ['-a', '--', SYSTEMD_ROOT, root]);
  options.prepare?.(root);
  const nspawn = spawn(
    'systemd-nspawn',
    [
      '--boot',
      '--private-network',
      '--register=no',
      '--keep-unit',
      '--console=read-only',
      `--machine=${basename(work)}`,
      '-D',
      root,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let console = '';
  const keep = (chunk: Buffer) => {
    console = (console + chunk.toString()).slice(-8000);
  };
  nspawn.stdout?.on('data', keep);
  nspawn.stderr?.on('data', keep);
  const container = new BootedContainer(root, nspawn);
  t.after(() => container.stop());
  try {
    await container.waitForBoot(() => console);
  } catch (error) {
    await container.stop();
    throw error;
  }
  return container;
}

class BootedContainer implements Container {
  readonly root: string;
  readonly #nspawn: ChildProcess;
  #pid1 = 0;
  #exited: Promise<void>;

  constructor(root: string, nspawn: ChildProcess) {
    this.root = root;
    this.#nspawn = nspawn;
    this.#exited = new Promise((resolve) => nspawn.once('exit', () => resolve()));
  }

  get pid1(): number {
    return this.#pid1;
  }

  async waitForBoot(output: () => string): Promise<void> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    let state = 'no PID 1 yet';
    while (Date.now() < deadline) {
      if (this.#nspawn.exitCode !== null)
        throw new Error(`systemd-nspawn exited with ${this.#nspawn.exitCode}:\n${output()}`);
      this.#pid1 ||= childPid(this.#nspawn.pid as number) ?? 0;
      if (this.#pid1 !== 0) {
        const answer = this.exec(['systemctl', 'is-system-running']);
        state = `systemctl is-system-running: ${answer.stdout.trim() || answer.stderr.trim()}`;
        if (answer.stdout.trim() === 'running' || answer.stdout.trim() === 'degraded') return;
      }
      await delay(200);
    }
    throw new Error(`the container did not boot within ${BOOT_TIMEOUT_MS} ms (${state}):\n${output()}`);
  }

  exec(argv: readonly string[], options: ContainerExecOptions = {}): ContainerResult {
    const env = Object.entries({ PATH, LANG: 'C.UTF-8', ...options.env }).map(([key, value]) => `${key}=${value}`);
    try {
      const stdout = execFileSync('nsenter', ['-t', String(this.#pid1), '-a', 'env', '-i', ...env, ...argv], {
        input: options.input ?? '',
        encoding: 'utf8',
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      return { status: 0, stdout, stderr: '' };
    } catch (error) {
      const failed = error as { status: number | null; stdout?: string; stderr?: string; message: string };
      return { status: failed.status ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
    }
  }

  run(argv: readonly string[], options: ContainerExecOptions = {}): string {
    const result = this.exec(argv, options);
    if (result.status !== 0)
      throw new Error(
        `${argv.join(' ')} exited with ${result.status} in the container:\n${result.stderr}${result.stdout}`,
      );
    return result.stdout;
  }

  /** SIGTERM asks nspawn to shut the container down; a second one if it lingers, then SIGKILL. */
  async stop(): Promise<void> {
    for (const signal of ['SIGTERM', 'SIGTERM', 'SIGKILL'] as const) {
      if (this.#nspawn.exitCode !== null || this.#nspawn.signalCode !== null) return;
      this.#nspawn.kill(signal);
      if (await Promise.race([this.#exited.then(() => true), delay(STOP_GRACE_MS, false, { ref: false })])) return;
    }
  }
}

/**
 * The container's init: the child of the nspawn process that is PID 1 of its own PID namespace. nspawn forks
 * an intermediate child first, which exits once the init is started; that one must not be taken for it.
 */
function childPid(parent: number): number | null {
  for (const task of readdirSync(`/proc/${parent}/task`)) {
    for (const child of readOrEmpty(`/proc/${parent}/task/${task}/children`).trim().split(' ').filter(Boolean)) {
      const nsPids = /^NSpid:\s+(.+)$/m
        .exec(readOrEmpty(`/proc/${child}/status`))?.[1]
        ?.trim()
        .split(/\s+/);
      if (nsPids !== undefined && nsPids.length > 1 && nsPids.at(-1) === '1') return Number(child);
    }
  }
  return null;
}

/** A /proc file of a process that may have exited since it was listed. */
function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/**
 * What systemd itself passes to a unit with `EnvironmentFile=-FILE`: a transient service runs `env -0`
 * with nothing else set, so the result is exactly the file as systemd's parser reads it.
 */
export function systemdEnvironment(container: Container, file: string): Map<string, string> {
  const out = container.run([
    'systemd-run',
    '--wait',
    '--pipe',
    '--quiet',
    '-p',
    `EnvironmentFile=-${file}`,
    'env',
    '-0',
  ]);
  const variables = new Map<string, string>();
  for (const entry of out.split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  // Set by systemd for every invocation; PATH and LANG are the manager's unless the file sets them.
  variables.delete('INVOCATION_ID');
  variables.delete('SYSTEMD_EXEC_PID');
  return variables;
}

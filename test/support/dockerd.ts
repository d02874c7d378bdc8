import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { releaseAtEnd, releaseBelow } from './loop-device.ts';
import { requireRoot } from './scratch.ts';

/**
 * A real dockerd for integration tests, isolated from any Docker of the
 * machine: its own data root, exec root, socket and pid file, no bridge and no
 * iptables rules (a daemon left running would otherwise keep docker0, nft
 * tables and ip_forward=1). It is stopped by PID when the test ends, pass or fail.
 */
export interface DockerdOptions {
  /** --data-root: where images and containers go (the store under test). */
  readonly dataRoot: string;
  /** --config-file (daemon.json); none by default. */
  readonly configFile?: string;
  readonly extraArgs?: readonly string[];
}

export interface Dockerd {
  readonly pid: number;
  /** unix://… for `docker -H`. */
  readonly endpoint: string;
  /** Runs the Debian docker client (matching the daemon's version) against this daemon; throws on failure. */
  docker(args: readonly string[], input?: string | Buffer): string;
  stop(): Promise<void>;
  log(): string;
}

/** The client packaged with docker.io; /usr/local/bin/docker is a newer one that shadows it. */
const DOCKER_CLIENT = '/usr/bin/docker';
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export async function startDockerd(t: TestContext, options: DockerdOptions): Promise<Dockerd> {
  requireRoot();
  // Short: containerd's socket goes below the exec root and socket paths are limited to 108 bytes.
  const state = mkdtempSync(join(tmpdir(), 'eha-dockerd-'));
  const socket = join(state, 'docker.sock');
  const logFile = join(state, 'dockerd.log');
  const args = [
    `--data-root=${options.dataRoot}`,
    `--exec-root=${join(state, 'exec')}`,
    `--pidfile=${join(state, 'docker.pid')}`,
    `--host=unix://${socket}`,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    ...(options.configFile ? [`--config-file=${options.configFile}`] : []),
    ...(options.extraArgs ?? []),
  ];
  const logFd = openSync(logFile, 'a');
  const child = spawn('dockerd', args, { stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const stop = () => stopDaemon(child, state);
  releaseAtEnd(t, stop);
  await waitUntilReady(child, socket, log);
  return {
    pid: child.pid as number,
    endpoint: `unix://${socket}`,
    docker: (dockerArgs, input) =>
      execFileSync(DOCKER_CLIENT, ['-H', `unix://${socket}`, ...dockerArgs], {
        encoding: 'utf8',
        ...(input === undefined ? {} : { input }),
      }),
    stop,
    log,
  };
}

async function waitUntilReady(child: ChildProcess, socket: string, log: () => string): Promise<void> {
  for (const started = Date.now(); Date.now() - started < READY_TIMEOUT_MS; await delay(200)) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`dockerd exited (${child.exitCode ?? child.signalCode}):\n${tail(log())}`);
    if (existsSync(socket) && (await ping(socket))) return;
  }
  throw new Error(`dockerd did not answer on ${socket} within ${READY_TIMEOUT_MS} ms:\n${tail(log())}`);
}

function ping(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** SIGTERM, then SIGKILL; then its containerd if that outlived it; then what it left mounted. Safe to call twice. */
async function stopDaemon(child: ChildProcess, state: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  killPidFile(join(state, 'exec', 'containerd', 'containerd.pid'));
  if (!existsSync(state)) return;
  releaseBelow(state);
  rmSync(state, { recursive: true, force: true });
}

function killPidFile(path: string): void {
  if (!existsSync(path)) return;
  const pid = Number(readFileSync(path, 'utf8').trim());
  try {
    if (pid > 0) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function tail(text: string): string {
  return text.trim().split('\n').slice(-15).join('\n');
}

/**
 * Debian's prometheus as a remote-write receiver for the tests: started with --web.enable-remote-write-receiver
 * on a loopback port, its own storage directory and a config of its own (no scrape targets: it hears only what
 * the agent writes), stopped by PID. stop() and start() take it away and bring it back on the same port and
 * storage, as a receiver that restarts does.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { stopChild } from '../../support/moto.ts';
import { freePort } from './free-port.ts';

const STARTUP_TIMEOUT_MS = 60_000;

export interface PrometheusServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** Where the agent writes: {url}/api/v1/write. */
  readonly writeUrl: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A PromQL instant query's result vector (or matrix, for a range selector). */
  query(promql: string, time?: Date): Promise<QueryResult[]>;
}

export interface QueryResult {
  readonly metric: Record<string, string>;
  readonly value?: [number, string];
  readonly values?: [number, string][];
}

export function requirePrometheus(): void {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(
      "Debian's prometheus is missing (the remote-write receiver): run node test/support/setup-system.ts as root",
    );
  }
}

/** Where the server's stop and the removal of its directory are registered: a test's context, or a benchmark's. */
export interface Cleanup {
  after(fn: () => unknown): void;
}

export async function startPrometheus(t: Cleanup): Promise<PrometheusServer> {
  requirePrometheus();
  const dir = mkdtempSync(join(tmpdir(), 'eha-prometheus-'));
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(configFile, 'global:\n  scrape_interval: 1m\nscrape_configs: []\n');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  let stderr = '';
  const args = [
    '--web.enable-remote-write-receiver',
    `--web.listen-address=127.0.0.1:${port}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--config.file=${configFile}`,
    '--log.level=warn',
  ];
  const killOnExit = () => child?.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    if (child !== null) await stopChild(child);
    child = null;
  };
  const start = async () => {
    const started = spawn('prometheus', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = started;
    started.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    await waitUntilReady(url, started, () => stderr);
  };
  t.after(async () => {
    process.removeListener('exit', killOnExit);
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await start();
  return {
    url,
    writeUrl: `${url}/api/v1/write`,
    stop,
    start,
    async query(promql, time) {
      const params = new URLSearchParams({ query: promql, ...(time ? { time: String(time.getTime() / 1000) } : {}) });
      const response = await fetch(`${url}/api/v1/query?${params}`);
      const reply = (await response.json()) as { status: string; error?: string; data?: { result: QueryResult[] } };
      if (reply.status !== 'success') throw new Error(`PromQL ${promql}: ${reply.error}`);
      return reply.data?.result ?? [];
    },
  };
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const giveUp = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`prometheus exited (${child.exitCode ?? child.signalCode}): ${stderr()}`);
    try {
      if ((await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await delay(100);
  }
  throw new Error(`prometheus did not get ready on ${url} within ${STARTUP_TIMEOUT_MS} ms: ${stderr()}`);
}

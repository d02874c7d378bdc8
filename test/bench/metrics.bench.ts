/**
 * `npm run bench:metrics`: the cost of one metrics sample, side by side with
 * Debian's prometheus-node-exporter on this machine (installed here when
 * missing, as root, with a policy-rc.d so its service does not start) and with
 * the systeminformation calls the issue measured. Figures only: it never fails on them.
 *
 * - ours: the agent's Sampler in this process on the real host; CPU is this
 *   process's user+system time plus reaped children, per sample.
 * - node_exporter: CPU from /proc/<pid>/stat of the exporter per scrape of
 *   `collect[]=cpu,meminfo,loadavg,filesystem,netdev,stat` and of its full default.
 * - processes started: the kernel's fork counter (/proc/stat "processes") over
 *   the run, so it includes anything else this machine started meanwhile.
 */
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import si from 'systeminformation';

import { RealHost } from '../../src/host/real-host.ts';
import { Sampler } from '../../src/metrics/sampler.ts';
import { freePort } from '../integration/metrics/free-port.ts';

const SAMPLES = 1000;
/** Samples before measuring, so lazily loaded modules and V8's young generation have settled. */
const WARM_UP = 200;
const SCRAPES = 200;
const SI_SAMPLES = 20;
const EXPORTER = '/usr/bin/prometheus-node-exporter';
const COMPARABLE = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'stat'];
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Figures {
  readonly name: string;
  readonly cpuMs: number;
  readonly latencyMs: number;
  readonly processes: number;
  readonly rssMb: string;
}

function forks(): number {
  return Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
}

/** utime+stime and cutime+cstime of a process, in ms. */
function cpuOf(pid: number | 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) * TICK_MS;
}

function rssMb(pid: number | 'self'): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

interface OwnFigures {
  readonly figures: Figures;
  readonly execs: number;
  readonly rssStart: number;
  readonly rssEnd: number;
  readonly heapGrowthMb: number;
}

async function ours(): Promise<OwnFigures> {
  let execs = 0;
  const sampler = new Sampler(new RealHost('/', () => execs++), {
    dockerSocket: '/var/run/docker.sock',
    introspectionUrl: 'http://127.0.0.1:51678',
    storeMount: '/var/lib/docker',
  });
  for (let i = 0; i < WARM_UP; i++) await sampler.sample();
  gc();
  const rssStart = rssMb('self');
  const heapStart = process.memoryUsage().heapUsed;
  const cpuStart = process.cpuUsage();
  const childrenStart = cpuOf('self');
  const ownStart = (cpuStart.user + cpuStart.system) / 1000;
  const forksStart = forks();
  const started = performance.now();
  for (let i = 0; i < SAMPLES; i++) await sampler.sample();
  const elapsed = performance.now() - started;
  const cpu = process.cpuUsage();
  const ownMs = (cpu.user + cpu.system) / 1000 - ownStart;
  const childrenMs = cpuOf('self') - childrenStart - ownMs; // /proc/self/stat counts both; keep the children's share
  gc();
  return {
    figures: {
      name: 'ecs-host-agent Sampler',
      cpuMs: (ownMs + Math.max(0, childrenMs)) / SAMPLES,
      latencyMs: elapsed / SAMPLES,
      processes: (forks() - forksStart) / SAMPLES,
      rssMb: rssMb('self').toFixed(1),
    },
    execs,
    rssStart,
    rssEnd: rssMb('self'),
    heapGrowthMb: (process.memoryUsage().heapUsed - heapStart) / 2 ** 20,
  };
}

async function systemInformation(): Promise<Figures> {
  const sample = () => Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats()]);
  await sample();
  const cpuStart = cpuOf('self');
  const forksStart = forks();
  const started = performance.now();
  for (let i = 0; i < SI_SAMPLES; i++) await sample();
  return {
    name: 'systeminformation 4 calls',
    cpuMs: (cpuOf('self') - cpuStart) / SI_SAMPLES,
    latencyMs: (performance.now() - started) / SI_SAMPLES,
    processes: (forks() - forksStart) / SI_SAMPLES,
    rssMb: '-',
  };
}

function ensureExporter(): void {
  if (existsSync(EXPORTER)) return;
  if (process.getuid?.() !== 0) throw new Error(`${EXPORTER} is missing; as root: apt-get install -y prometheus-node-exporter`);
  console.error('installing prometheus-node-exporter (its service is kept from starting)');
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', '--', 'prometheus-node-exporter'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

async function nodeExporter(): Promise<Figures[]> {
  ensureExporter();
  const port = await freePort();
  const child = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const pid = child.pid as number;
  try {
    const base = `http://127.0.0.1:${port}/metrics`;
    for (let i = 0; i < 50 && !(await fetch(base).then((r) => r.ok, () => false)); i++) await delay(100);
    const comparable = `${base}?${COMPARABLE.map((c) => `collect[]=${c}`).join('&')}`;
    return [await scrape(pid, comparable, 'node_exporter comparable set'), await scrape(pid, base, 'node_exporter full default')];
  } finally {
    child.kill('SIGTERM');
  }
}

async function scrape(pid: number, url: string, name: string): Promise<Figures> {
  for (let i = 0; i < 5; i++) await (await fetch(url)).text();
  const cpuStart = cpuOf(pid);
  const forksStart = forks();
  const started = performance.now();
  for (let i = 0; i < SCRAPES; i++) await (await fetch(url)).text();
  return {
    name,
    cpuMs: (cpuOf(pid) - cpuStart) / SCRAPES,
    latencyMs: (performance.now() - started) / SCRAPES,
    processes: (forks() - forksStart) / SCRAPES,
    rssMb: rssMb(pid).toFixed(1),
  };
}

/** Ours runs in a process of its own, so its RSS is the sampler's and not systeminformation's. */
function oursInChild(): OwnFigures {
  return JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'ours'], { encoding: 'utf8' })) as OwnFigures;
}

if (process.argv[2] === 'ours') {
  console.log(JSON.stringify(await ours()));
  process.exit(0);
}
const own = oursInChild();
const rows = [own.figures, ...(await nodeExporter()), await systemInformation()];
console.log(`per sample (ours: ${SAMPLES} samples; node_exporter: ${SCRAPES} scrapes; systeminformation: ${SI_SAMPLES} samples)\n`);
console.log(`${'source'.padEnd(32)}${'CPU ms'.padStart(10)}${'latency ms'.padStart(12)}${'processes'.padStart(11)}${'RSS MB'.padStart(9)}`);
for (const row of rows) {
  console.log(`${row.name.padEnd(32)}${row.cpuMs.toFixed(2).padStart(10)}${row.latencyMs.toFixed(2).padStart(12)}${row.processes.toFixed(2).padStart(11)}${row.rssMb.padStart(9)}`);
}
console.log(`\nours: ${own.execs} processes started by the sampler itself; RSS ${own.rssStart.toFixed(1)} MB after ${WARM_UP} warm-up samples, ${own.rssEnd.toFixed(1)} MB after ${SAMPLES} samples (growth ${(own.rssEnd - own.rssStart).toFixed(1)} MB, heap ${own.heapGrowthMb.toFixed(2)} MB)`);
console.log('processes: forks on the whole machine during the run, per sample (other activity included); CPU of node_exporter excludes the scraping client');

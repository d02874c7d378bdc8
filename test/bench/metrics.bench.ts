/**
 * `npm run bench:metrics`: the cost of one metrics sample, side by side with
 * Debian's prometheus-node-exporter on this machine (installed here when
 * missing, as root, with a policy-rc.d so its service does not start) and with
 * the systeminformation calls the issue measured. Figures only: it never fails on them.
 *
 * - ours: the Sampler in a process of its own, from a bundle built as the
 *   package builds the agent and run by Node 24 without type stripping, as the
 *   packaged daemon runs (metrics-sampler.ts): once with only what a sample
 *   needs, once with every module the daemon loads; each with the V8 flags
 *   tried. CPU is that process's user+system time per sample.
 * - node_exporter: CPU from /proc/<pid>/stat of the exporter per scrape of
 *   `collect[]=cpu,meminfo,loadavg,filesystem,netdev,stat` and of its full default.
 * - processes started: the kernel's fork counter (/proc/stat "processes") over
 *   the run, so it includes anything else this machine started meanwhile.
 * - /proc reads: readFile per file per sample against the Host's readers (files kept open, read from
 *   offset 0 until a read returns nothing), as the sampler now reads them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';

import si from 'systeminformation';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { freePort } from '../integration/metrics/free-port.ts';
import type { SamplerFigures } from './metrics-sampler.ts';

const SAMPLES = 1000;
/** Samples before measuring, so lazily loaded modules and V8's young generation have settled. */
const WARM_UP = 200;
const SCRAPES = 200;
const SI_SAMPLES = 20;
const PROC_READS = 3000;
const PROC_FILES = ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/net/dev', '/proc/self/mounts'];
const EXPORTER = '/usr/bin/prometheus-node-exporter';
const COMPARABLE = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'stat'];
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** V8 flags tried on the sampler process; packaging/wrapper.sh passes the kept ones to the daemon. */
const V8_FLAGS = [[], ['--max-semi-space-size=1'], ['--max-semi-space-size=1', '--max-old-space-size=64']];

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

function rssMb(pid: number): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

interface Bundles {
  readonly samplerOnly: string;
  readonly wholeAgent: string;
}

async function bundleSampler(dir: string): Promise<Bundles> {
  const entryPoint = fileURLToPath(new URL('metrics-sampler.ts', import.meta.url));
  const bundle = async (wholeAgent: boolean): Promise<string> => {
    const outDir = join(dir, `sampler-${wholeAgent ? 'agent' : 'only'}`);
    // import.meta.main false: the whole agent's main.ts is loaded, not run.
    return (await bundleAgent(outDir, '0.0.0-bench', { entryPoint, define: { WHOLE_AGENT: String(wholeAgent), 'import.meta.main': 'false' } })).entry;
  };
  return { samplerOnly: await bundle(false), wholeAgent: await bundle(true) };
}

interface OwnRun {
  readonly bundle: string;
  readonly flags: readonly string[];
  readonly figures: SamplerFigures;
  readonly forksPerSample: number;
}

function runSampler(bundle: string, flags: readonly string[]): OwnRun {
  const forksStart = forks();
  const output = execFileSync(process.execPath, [...flags, bundle, String(SAMPLES), String(WARM_UP)], { encoding: 'utf8' });
  return { bundle, flags, figures: JSON.parse(output) as SamplerFigures, forksPerSample: (forks() - forksStart) / (SAMPLES + WARM_UP) };
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

/** CPU ms per sample of reading the /proc files a sample reads: readFile each time, or the Host's readers kept open. */
async function procReads(): Promise<{ readFileMs: number; keptOpenMs: number }> {
  const cpuMs = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  const perSample = async (read: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 200; i++) await read();
    const start = cpuMs();
    for (let i = 0; i < PROC_READS; i++) await read();
    return (cpuMs() - start) / PROC_READS;
  };
  const host = new RealHost('/');
  const readers = await Promise.all(PROC_FILES.map((file) => host.openReader(file)));
  try {
    const readFileMs = await perSample(() => Promise.all(PROC_FILES.map((file) => readFile(file, 'utf8'))));
    const keptOpenMs = await perSample(() => Promise.all(readers.map((reader) => reader.read())));
    return { readFileMs, keptOpenMs };
  } finally {
    await Promise.all(readers.map((reader) => reader.close()));
  }
}

function printOwn(runs: readonly OwnRun[], bundles: Bundles): void {
  console.log(`ecs-host-agent sampler, bundled, Node ${process.version}: ${SAMPLES} samples after ${WARM_UP} warm-up samples\n`);
  const columns = ['CPU ms', 'latency ms', 'RSS loaded', 'after warm-up', 'end', 'growth', 'heap growth'];
  console.log(`${'bundle, V8 flags'.padEnd(62)}${columns.map((c) => c.padStart(14)).join('')}`);
  for (const { bundle, flags, figures: f } of runs) {
    const name = `${bundle === bundles.wholeAgent ? 'whole agent' : 'sampler only'}, ${flags.join(' ') || 'defaults'}`;
    const values = [f.cpuMsPerSample, f.latencyMsPerSample, f.rssLoadedMb, f.rssAfterWarmUpMb, f.rssEndMb, f.rssEndMb - f.rssAfterWarmUpMb, f.heapGrowthMb];
    console.log(`${name.padEnd(62)}${values.map((v) => v.toFixed(2).padStart(14)).join('')}`);
  }
  const execs = runs.reduce((sum, run) => sum + run.figures.execs, 0);
  const forksPerSample = Math.max(...runs.map((run) => run.forksPerSample));
  console.log(`(RSS in MB; ${execs} processes started by the sampler itself, counted at the Host's exec; at most ${forksPerSample.toFixed(2)} forks per sample machine-wide)\n`);
}

const scratch = mkdtempSync(join(tmpdir(), 'eha-bench-metrics-'));
try {
  const bundles = await bundleSampler(scratch);
  const runs = [bundles.samplerOnly, bundles.wholeAgent].flatMap((bundle) => V8_FLAGS.map((flags) => runSampler(bundle, flags)));
  printOwn(runs, bundles);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
const rows = [...(await nodeExporter()), await systemInformation()];
console.log(`for comparison, per scrape or sample (node_exporter: ${SCRAPES} scrapes; systeminformation: ${SI_SAMPLES} samples)\n`);
console.log(`${'source'.padEnd(32)}${'CPU ms'.padStart(10)}${'latency ms'.padStart(12)}${'processes'.padStart(11)}${'RSS MB'.padStart(9)}`);
for (const row of rows) {
  console.log(`${row.name.padEnd(32)}${row.cpuMs.toFixed(2).padStart(10)}${row.latencyMs.toFixed(2).padStart(12)}${row.processes.toFixed(2).padStart(11)}${row.rssMb.padStart(9)}`);
}
console.log('processes: forks on the whole machine during the run, per scrape (other activity included); CPU of node_exporter excludes the scraping client');
const proc = await procReads();
console.log(`\n/proc reads of a sample (${PROC_FILES.join(', ')}), CPU ms per sample: readFile ${proc.readFileMs.toFixed(3)}, handles kept open ${proc.keptOpenMs.toFixed(3)}`);

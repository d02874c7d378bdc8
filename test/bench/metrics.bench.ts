/**
 * `npm run bench:metrics`: the CPU of one metrics sample against one scrape of
 * Debian's prometheus-node-exporter's comparable collectors
 * (`collect[]=cpu,meminfo,loadavg,filesystem,netdev,stat`), on this machine in
 * the same run. node_exporter is installed when missing (as root, its service
 * kept from starting).
 *
 * - ours: the Sampler in a process of its own (metrics-sampler.ts), from a
 *   bundle built as the package builds the agent, with every module the daemon
 *   loads, run with packaging/wrapper.sh's V8 flags as the packaged daemon runs.
 * - The two take turns, ROUNDS times (a batch of samples, then a batch of
 *   scrapes), so load from elsewhere on the machine falls on both alike. CPU is
 *   the on-CPU time of all the process's threads (/proc/PID/task/TID/schedstat,
 *   nanoseconds) over each batch, read alike for both; node_exporter's excludes
 *   the scraping client. The figure is the ratio of the totals; the spread of
 *   the per-round ratios is printed beside it.
 * - For comparison: node_exporter's full default scrape, the systeminformation
 *   calls a sample would need, the "sampler only" bundle's RSS, and reading the
 *   /proc files of a sample with readFile against the Host's kept-open readers.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import si from 'systeminformation';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { freePort } from '../integration/metrics/free-port.ts';
import { ensureDebianPackage, median, range, reportFigure, requireProjectRuntime, rssMb, V8_FLAGS } from './figures.ts';
import type { SamplerBatch, SamplerEnd, SamplerReady } from './metrics-sampler.ts';

const ROUNDS = 12;
const SAMPLES_PER_ROUND = 100;
const SCRAPES_PER_ROUND = 25;
/** Samples before measuring, so lazily loaded modules and V8's optimising compiler have settled. */
const WARM_UP = 200;
const SI_SAMPLES = 20;
const PROC_READS = 3000;
const PROC_FILES = ['/proc/stat', '/proc/meminfo', '/proc/loadavg', '/proc/net/dev', '/proc/self/mounts'];
const EXPORTER = '/usr/bin/prometheus-node-exporter';
const COMPARABLE = ['cpu', 'meminfo', 'loadavg', 'filesystem', 'netdev', 'stat'];
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** On-CPU time of every thread of a process, in ms (schedstat's first field is nanoseconds). */
function cpuMsOf(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return ns / 1e6;
}

/** A sampler process driven line by line over stdin. */
class SamplerProcess {
  readonly child: ChildProcess;
  readonly #lines: AsyncIterator<string>;

  constructor(bundle: string, flags: readonly string[]) {
    this.child = spawn(process.execPath, [...flags, bundle, String(WARM_UP)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }

  async next<T>(): Promise<T> {
    const { value, done } = await this.#lines.next();
    if (done) throw new Error(`the sampler exited (${this.child.exitCode})`);
    return JSON.parse(value) as T;
  }

  async batch(samples: number): Promise<SamplerBatch> {
    this.child.stdin!.write(`${samples}\n`);
    return this.next<SamplerBatch>();
  }

  async end(): Promise<SamplerEnd> {
    this.child.stdin!.end('end\n');
    return this.next<SamplerEnd>();
  }
}

async function bundleSampler(dir: string, wholeAgent: boolean): Promise<string> {
  const entryPoint = fileURLToPath(new URL('metrics-sampler.ts', import.meta.url));
  const outDir = join(dir, `sampler-${wholeAgent ? 'agent' : 'only'}`);
  // import.meta.main false: the whole agent's main.ts is loaded, not run.
  const define = { WHOLE_AGENT: String(wholeAgent), 'import.meta.main': 'false' };
  return (await bundleAgent(outDir, '0.0.0-bench', { entryPoint, define })).entry;
}

async function startExporter(): Promise<{ child: ChildProcess; url: string }> {
  ensureDebianPackage('prometheus-node-exporter', EXPORTER);
  const port = await freePort();
  const child = spawn(EXPORTER, [`--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/metrics`;
  for (
    let i = 0;
    i < 50 &&
    !(await fetch(url).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  )
    await delay(100);
  return { child, url };
}

async function scrape(url: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await (await fetch(url)).text();
}

interface Turns {
  readonly samplerCpuMs: number[];
  readonly exporterCpuMs: number[];
  readonly latencyMs: number[];
}

/** Sampler and exporter take turns; CPU per sample and per scrape of each round. */
async function takeTurns(sampler: SamplerProcess, exporterPid: number, comparableUrl: string): Promise<Turns> {
  const turns: Turns = { samplerCpuMs: [], exporterCpuMs: [], latencyMs: [] };
  await scrape(comparableUrl, 5);
  for (let round = 0; round < ROUNDS; round++) {
    const samplerStart = cpuMsOf(sampler.child.pid as number);
    const batch = await sampler.batch(SAMPLES_PER_ROUND);
    turns.samplerCpuMs.push((cpuMsOf(sampler.child.pid as number) - samplerStart) / SAMPLES_PER_ROUND);
    turns.latencyMs.push(batch.latencyMs);
    const exporterStart = cpuMsOf(exporterPid);
    await scrape(comparableUrl, SCRAPES_PER_ROUND);
    turns.exporterCpuMs.push((cpuMsOf(exporterPid) - exporterStart) / SCRAPES_PER_ROUND);
  }
  return turns;
}

async function fullScrapeCpuMs(exporterPid: number, url: string): Promise<number> {
  await scrape(url, 5);
  const start = cpuMsOf(exporterPid);
  await scrape(url, SCRAPES_PER_ROUND * 2);
  return (cpuMsOf(exporterPid) - start) / (SCRAPES_PER_ROUND * 2);
}

/** This process's CPU with that of its reaped children (utime, stime, cutime, cstime), in ms. */
function cpuWithChildrenMs(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  return [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) * TICK_MS;
}

function forks(): number {
  return Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
}

/**
 * systeminformation's calls for what a sample holds (why the sampler reads /proc itself): CPU and processes per sample.
 */
async function systemInformation(): Promise<{ cpuMs: number; processes: number }> {
  const sample = () => Promise.all([si.currentLoad(), si.mem(), si.fsSize(), si.networkStats()]);
  await sample();
  const [cpuStart, forksStart] = [cpuWithChildrenMs(), forks()];
  for (let i = 0; i < SI_SAMPLES; i++) await sample();
  return { cpuMs: (cpuWithChildrenMs() - cpuStart) / SI_SAMPLES, processes: (forks() - forksStart) / SI_SAMPLES };
}

/** CPU ms per sample of reading a sample's /proc files: readFile each time, or the Host's readers kept open. */
async function procReads(): Promise<{ readFileMs: number; keptOpenMs: number }> {
  const perSample = async (read: () => Promise<unknown>): Promise<number> => {
    for (let i = 0; i < 200; i++) await read();
    const start = cpuMsOf(process.pid);
    for (let i = 0; i < PROC_READS; i++) await read();
    return (cpuMsOf(process.pid) - start) / PROC_READS;
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

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

requireProjectRuntime();
const scratch = mkdtempSync(join(tmpdir(), 'eha-bench-metrics-'));
const exporter = await startExporter();
try {
  const exporterPid = exporter.child.pid as number;
  const comparableUrl = `${exporter.url}?${COMPARABLE.map((c) => `collect[]=${c}`).join('&')}`;
  const samplerOnly = new SamplerProcess(await bundleSampler(scratch, false), V8_FLAGS);
  const onlyReady = await samplerOnly.next<SamplerReady>();
  const onlyEnd = await samplerOnly.end();
  const sampler = new SamplerProcess(await bundleSampler(scratch, true), V8_FLAGS);
  const ready = await sampler.next<SamplerReady>();
  const turns = await takeTurns(sampler, exporterPid, comparableUrl);
  const end = await sampler.end();
  const fullMs = await fullScrapeCpuMs(exporterPid, exporter.url);
  const exporterRss = rssMb(exporterPid);
  const ours = turns.samplerCpuMs.reduce((a, b) => a + b) / ROUNDS;
  const theirs = turns.exporterCpuMs.reduce((a, b) => a + b) / ROUNDS;
  const perRound = turns.samplerCpuMs.map((cpu, i) => cpu / (turns.exporterCpuMs[i] as number));

  console.log(
    `sampler, bundled, Node ${process.versions.node} ` +
      `${V8_FLAGS.join(' ') || '(V8 defaults)'}: ${ROUNDS} rounds of ${SAMPLES_PER_ROUND} samples, ` +
      `taking turns with ${SCRAPES_PER_ROUND} node_exporter scrapes; after ${WARM_UP} warm-up samples`,
  );
  console.log(
    `  CPU ms per sample: ${ours.toFixed(3)} (rounds ${range(turns.samplerCpuMs, 3)}); ` +
      `latency ms ${median(turns.latencyMs).toFixed(2)}`,
  );
  console.log(
    `  whole agent RSS MB: ${ready.rssLoadedMb.toFixed(1)} loaded, ` +
      `${ready.rssAfterWarmUpMb.toFixed(1)} after warm-up, ${end.rssEndMb.toFixed(1)} at the end; live ` +
      `heap growth ${end.heapGrowthMb.toFixed(2)} MB`,
  );
  console.log(
    `  sampler only RSS MB: ${onlyReady.rssLoadedMb.toFixed(1)} loaded, ` +
      `${onlyReady.rssAfterWarmUpMb.toFixed(1)} after warm-up`,
  );
  console.log(`  processes started by the sampler: ${end.execs + onlyEnd.execs} (counted at the Host's exec)`);
  console.log(
    `node_exporter (RSS ${exporterRss.toFixed(1)} MB): comparable set ${theirs.toFixed(3)} ` +
      `CPU ms per scrape (rounds ${range(turns.exporterCpuMs, 3)}); full default ${fullMs.toFixed(2)}`,
  );
  const siFigures = await systemInformation();
  const siCalls = 'currentLoad()+mem()+fsSize()+networkStats()';
  console.log(
    `systeminformation ${siCalls}: ${siFigures.cpuMs.toFixed(1)} CPU ms per sample with ` +
      `its children, ${siFigures.processes.toFixed(1)} processes (machine-wide fork counter)`,
  );
  const proc = await procReads();
  console.log(
    `/proc files of a sample (${PROC_FILES.join(', ')}), CPU ms: readFile each time ` +
      `${proc.readFileMs.toFixed(3)}, kept open ${proc.keptOpenMs.toFixed(3)}`,
  );
  reportFigure({
    name: "metrics CPU per sample ÷ node_exporter's comparable set",
    value: ours,
    unit: 'ms',
    reference: { name: 'node_exporter comparable scrape', value: theirs },
    goal: 0.5,
    note: `per-round ratios ${range(perRound, 2)} over ${ROUNDS} rounds`,
  });
} finally {
  await stop(exporter.child);
  rmSync(scratch, { recursive: true, force: true });
}

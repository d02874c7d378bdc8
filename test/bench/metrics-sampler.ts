/**
 * The sampler loop metrics.bench.ts runs in a process of its own, from a
 * bundle built as the package builds the agent (packaging/build/bundle.ts) and
 * run by Node 24 without type stripping, as the packaged daemon runs. Built
 * twice: with WHOLE_AGENT the bundle first loads every module the daemon loads
 * (src/cli/main.ts, the context and the run command, and all they import), so
 * its RSS is the shipped daemon's; without, only what a sample needs. Prints
 * one JSON line of figures.
 *
 * Usage: node sampler.mjs SAMPLES WARM_UP
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { RealHost } from '../../src/host/real-host.ts';
import { Sampler } from '../../src/metrics/sampler.ts';

declare const WHOLE_AGENT: boolean;

export interface SamplerFigures {
  /** RSS once the modules are loaded, before the first sample. */
  readonly rssLoadedMb: number;
  readonly rssAfterWarmUpMb: number;
  readonly rssEndMb: number;
  readonly heapGrowthMb: number;
  readonly cpuMsPerSample: number;
  readonly latencyMsPerSample: number;
  /** Processes the sampler started (counted at the Host's exec). */
  readonly execs: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function rssMb(): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const [samples = 1000, warmUp = 200] = process.argv.slice(2).map(Number);
if (WHOLE_AGENT) await Promise.all([import('../../src/cli/main.ts'), import('../../src/cli/context.ts'), import('../../src/cli/run.ts')]);
let execs = 0;
const sampler = new Sampler(new RealHost('/', () => execs++), {
  dockerSocket: '/var/run/docker.sock',
  introspectionUrl: 'http://127.0.0.1:51678',
  storeMount: '/var/lib/docker',
  storeOnBtrfs: false,
  volumes: [],
});
const rssLoadedMb = rssMb();
for (let i = 0; i < warmUp; i++) await sampler.sample();
gc();
const rssAfterWarmUpMb = rssMb();
const heapStart = process.memoryUsage().heapUsed;
const cpuStart = cpuMs();
const started = performance.now();
for (let i = 0; i < samples; i++) await sampler.sample();
const latencyMsPerSample = (performance.now() - started) / samples;
const cpuMsPerSample = (cpuMs() - cpuStart) / samples;
gc();
await sampler.close();
const figures: SamplerFigures = {
  rssLoadedMb,
  rssAfterWarmUpMb,
  rssEndMb: rssMb(),
  heapGrowthMb: (process.memoryUsage().heapUsed - heapStart) / 2 ** 20,
  cpuMsPerSample,
  latencyMsPerSample,
  execs,
};
console.log(JSON.stringify(figures));

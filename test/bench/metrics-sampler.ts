/**
 * The sampler loop metrics.bench.ts runs in a process of its own, from a
 * bundle built as the package builds the agent (packaging/build/bundle.ts) and
 * run by Node 24 without type stripping, as the packaged daemon runs. Built
 * twice: with WHOLE_AGENT the bundle first loads every module the daemon loads
 * (src/cli/main.ts, the context and the run command, and all they import), so
 * its RSS is the shipped daemon's; without, only what a sample needs.
 *
 * Driven over stdin so the benchmark can take turns with node_exporter: it
 * prints one JSON line once loaded and warmed up, then for each line "N" takes
 * N samples back to back and prints a line of figures; "end" prints the final
 * figures and exits. CPU is measured from outside (/proc), alike for both.
 *
 * Usage: node sampler.mjs WARM_UP
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { RealHost } from '../../src/host/real-host.ts';
import { Sampler } from '../../src/metrics/sampler.ts';

declare const WHOLE_AGENT: boolean;

export interface SamplerReady {
  /** RSS once the modules are loaded, before the first sample. */
  readonly rssLoadedMb: number;
  readonly rssAfterWarmUpMb: number;
}

export interface SamplerBatch {
  readonly samples: number;
  readonly latencyMs: number;
}

export interface SamplerEnd {
  readonly rssEndMb: number;
  /** Live heap after a full GC, at the end against after the warm-up. */
  readonly heapGrowthMb: number;
  /** Processes the sampler started (counted at the Host's exec). */
  readonly execs: number;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function rssMb(): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
}

function heapAfterGc(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

const warmUp = Number(process.argv[2] ?? 200);
if (WHOLE_AGENT)
  await Promise.all([
    import('../../src/cli/main.ts'),
    import('../../src/cli/context.ts'),
    import('../../src/cli/run.ts'),
  ]);
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
const heapStart = heapAfterGc();
const ready: SamplerReady = { rssLoadedMb, rssAfterWarmUpMb: rssMb() };
console.log(JSON.stringify(ready));

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'end') break;
  const samples = Number(line);
  const started = performance.now();
  for (let i = 0; i < samples; i++) await sampler.sample();
  const batch: SamplerBatch = { samples, latencyMs: (performance.now() - started) / samples };
  console.log(JSON.stringify(batch));
}
const heapGrowthMb = (heapAfterGc() - heapStart) / 2 ** 20;
await sampler.close();
const end: SamplerEnd = { rssEndMb: rssMb(), heapGrowthMb, execs };
console.log(JSON.stringify(end));

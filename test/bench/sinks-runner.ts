/**
 * The metrics runner sinks.bench.ts measures, in a process of its own, from a bundle built as the package builds
 * the agent (each sink's modules a chunk loaded only when that sink is on, as in the daemon): the configuration
 * comes from the environment (CONTROL_URL, METRICS_CLOUDWATCH, METRICS_REMOTE_WRITE_URL …). Each step takes a
 * real sample, spools it and delivers it to every sink that is on before the next. Prints one JSON line.
 *
 * Usage: node sinks-runner.mjs SAMPLES WARM_UP
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { loadConfig } from '../../src/core/config/load.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { MetricsRunner } from '../../src/jobs/metrics.ts';

export interface SinkFigures {
  readonly rssLoadedMb: number;
  readonly rssAfterWarmUpMb: number;
  readonly rssEndMb: number;
  readonly cpuMsPerSample: number;
  /** Steps whose sample did not reach every sink at once (a fault of the benchmark's receivers). */
  readonly spooled: number;
  /** What delivery said of the last such step. */
  readonly lastSpooled: string | null;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const rssMb = () => Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const facts = async () => ({
  os: 'bench',
  kernel: '',
  arch: 'x64',
  cpuModel: '',
  cpuCores: 1,
  manufacturer: '',
  product: '',
  gpus: [],
});

const [samples = 300, warmUp = 50] = process.argv.slice(2).map(Number);
const config = loadConfig({ file: 'agent.env', fileText: null, env: process.env, flags: {} });
const runner = await MetricsRunner.create(new RealHost('/'), config, silentLogger, { hostFacts: facts });
let spooled = 0;
let lastSpooled: string | null = null;
const step = async () => {
  const { destination, summary } = await runner.step();
  if (destination !== 'spool') return;
  spooled++;
  lastSpooled = summary;
};
await step(); // the first delivery loads each sink's modules
const rssLoadedMb = rssMb();
for (let i = 1; i < warmUp; i++) await step();
gc();
const rssAfterWarmUpMb = rssMb();
const cpuStart = cpuMs();
for (let i = 0; i < samples; i++) await step();
const cpuMsPerSample = (cpuMs() - cpuStart) / samples;
gc();
const figures: SinkFigures = { rssLoadedMb, rssAfterWarmUpMb, rssEndMb: rssMb(), cpuMsPerSample, spooled, lastSpooled };
await runner.close();
console.log(JSON.stringify(figures));

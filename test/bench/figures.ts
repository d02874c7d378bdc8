/**
 * What every benchmark shares: the runtime check, the environment agent
 * commands run with, medians, and the one way a figure is reported. A figure
 * is always a ratio to a reference measured in the same run on the same
 * machine (bare node of the same runtime, node_exporter, newusers), so a
 * machine busy with other work moves both sides alike. `npm run bench`
 * (run.ts) collects the figures every benchmark reported into one table.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

import packageJson from '../../package.json' with { type: 'json' };

export interface Figure {
  /** What is measured, as the table names it. */
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly reference: { readonly name: string; readonly value: number };
  /** The ratio value ÷ reference must stay at or below this; null: a figure shown for information. */
  readonly goal: number | null;
  /** The value itself must stay at or below this, in its unit: a goal the issue sets in seconds or megabytes. */
  readonly valueGoal?: number;
  /** When taken pair by pair (the median of each run's own ratio), not as value ÷ reference. */
  readonly ratio?: number;
  /** What else the reader needs: spread, sample count, the other figures of the same run. */
  readonly note?: string;
}

/** Set by run.ts: the newline-JSON file the figures of this run are appended to. */
const FIGURES_FILE = process.env.BENCH_FIGURES_FILE;

export function ratioOf(figure: Figure): number {
  return figure.ratio ?? figure.value / figure.reference.value;
}

/** Prints the figure with its ratio and hands it to run.ts's summary. */
export function reportFigure(figure: Figure): void {
  const goal = goalOf(figure) === '' ? '' : ` (goal ${goalOf(figure)}: ${verdictOf(figure)})`;
  const value = `${formatNumber(figure.value)} ${figure.unit}`;
  const reference = `${formatNumber(figure.reference.value)} ${figure.unit} (${figure.reference.name})`;
  const paired = figure.ratio === undefined ? '' : " (median of the runs' own ratios)";
  console.log(`FIGURE ${figure.name}: ${value} ÷ ${reference} = ${ratioOf(figure).toFixed(2)}${paired}${goal}`);
  if (figure.note) console.log(`       ${figure.note}`);
  if (FIGURES_FILE) appendFileSync(FIGURES_FILE, `${JSON.stringify(figure)}\n`);
}

/** The goal as the table shows it: "≤ 5" for a ratio, "≤ 0.5 s" for a value; "" when there is none. */
export function goalOf(figure: Figure): string {
  if (figure.goal !== null) return `≤ ${figure.goal}`;
  return figure.valueGoal === undefined ? '' : `≤ ${figure.valueGoal} ${figure.unit}`;
}

/** "met", "not met", or "" for a figure without a goal. */
export function verdictOf(figure: Figure): string {
  const [measured, goal] = figure.goal !== null ? [ratioOf(figure), figure.goal] : [figure.value, figure.valueGoal];
  return goal === undefined ? '' : measured <= goal ? 'met' : 'not met';
}

export function readFigures(file: string): Figure[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Figure);
}

export function formatNumber(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export function range(values: readonly number[], digits = 0): string {
  return `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`;
}

/**
 * The figures are the shipped runtime's: the `node` devDependency (which
 * `npm run bench` puts first on PATH), never whatever node the machine has.
 */
export function requireProjectRuntime(): void {
  const wanted = packageJson.devDependencies.node;
  if (process.versions.node !== wanted) {
    throw new Error(
      `benchmarks run on the project's Node ${wanted} (npm run bench), not on ` +
        `${process.execPath} (Node ${process.versions.node})`,
    );
  }
}

/** No agent command may reach beyond loopback: every AWS and download endpoint points at a port nothing listens on. */
const DEAD_ENDPOINT = 'http://127.0.0.1:9';

export function loopbackEnv(): Record<string, string> {
  const endpoints = [
    'AWS_ENDPOINT_URL_ECS',
    'AWS_ENDPOINT_URL_SSM',
    'AWS_ENDPOINT_URL_S3',
    'AWS_ENDPOINT_URL_ECR',
    'AWS_ENDPOINT_URL_CLOUDWATCH',
    'ECSINIT_BASE_URL',
  ];
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_REGION: 'us-east-1',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: DEAD_ENDPOINT,
    INTROSPECTION_URL: DEAD_ENDPOINT,
    CONTROL_IDENTITY: 'no',
    ...Object.fromEntries(endpoints.map((name) => [name, DEAD_ENDPOINT])),
  };
}

/** The machine and runtime the figures were taken on, for the summary and docs/benchmarks.md. */
export function machineDescription(): string {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU';
  const cores = cpuinfo.match(/^processor\s*:/gm)?.length ?? 0;
  const memoryKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const release = /^PRETTY_NAME="?([^"\n]*)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? 'unknown system';
  return (
    `${release}, kernel ${kernel}, ${cores} × ${model}, ${(memoryKb / 2 ** 20).toFixed(0)} GiB; ` +
    `Node ${process.versions.node}`
  );
}

/**
 * A Debian package a benchmark compares against or measures with, installed
 * when missing (as root, with a policy-rc.d so no service starts).
 */
export function ensureDebianPackage(name: string, file: string): void {
  if (existsSync(file)) return;
  if (process.getuid?.() !== 0) throw new Error(`${file} is missing; as root: apt-get install -y ${name}`);
  console.error(`installing ${name} (its services are kept from starting)`);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', '--', name], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env,
    });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/** /usr/bin/time reports a finished child's peak RSS, which node's spawn does not. */
export const TIME = '/usr/bin/time';

/** VmRSS of a live process in MB. */
export function rssMb(pid: number | 'self'): number {
  return Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}

/**
 * The V8 flags packaging/wrapper.sh gives node before the bundle, read from it so the two cannot drift;
 * BENCH_V8_FLAGS measures others instead (a space-separated list, empty for V8's defaults).
 */
export const V8_FLAGS: readonly string[] = (process.env.BENCH_V8_FLAGS ?? wrapperFlags()).split(' ').filter(Boolean);

function wrapperFlags(): string {
  const wrapper = readFileSync(new URL('../../packaging/wrapper.sh', import.meta.url), 'utf8');
  const flags = /^exec "\$AGENT_LIB\/node" (.*) "\$AGENT_LIB\/ecs-host-agent\.mjs" "\$@"$/m.exec(wrapper)?.[1];
  if (flags === undefined)
    throw new Error(
      'packaging/wrapper.sh no longer runs exec "$AGENT_LIB/node" FLAGS "$AGENT_LIB/ecs-host-agent.mjs" "$@"',
    );
  return flags;
}

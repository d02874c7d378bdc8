import { loadConfig } from '../../../src/core/config/load.ts';
import type { Config } from '../../../src/core/config/load.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import type { HostStatus } from '../../../src/control/protocol.ts';
import type { Logger } from '../../../src/core/logger.ts';
import type { HttpRequest } from '../../../src/host/host.ts';

/** Samples and config for the control tests. */
export function sample(index: number, time = new Date(Date.UTC(2026, 10, 22, 12, 0, 0) + index * 60_000)): Sample {
  return {
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    time: time.toISOString(),
    cpu: { user: 1, nice: 0, system: 1, idle: 98, waitio: 0, steal: 0, irq: 0 },
    load: { load1: 0.1, load5: 0.1, load15: 0.1 },
    memory: { total: 100, free: 50, available: 60, buffers: 5, cached: 5, used: 40, swapTotal: 0, swapUsed: 0 },
    procs: 100,
    disks: [],
    volumes: [],
    network: [],
    docker: null,
    ecs: { agentAnswering: false, cluster: null, containerInstanceArn: null, runningTasks: null },
    agent: { rssBytes: 1000, cpuSeconds: 0.5 },
    errors: [],
  };
}

export function status(): HostStatus {
  return {
    agentVersion: '0.1.0',
    instanceId: null,
    facts: null,
    ecs: { configuredCluster: 'default', agentAnswering: false, cluster: null, containerInstanceArn: null },
    concerns: null,
    pendingUpdates: null,
    storage: null,
    spool: { pendingSamples: 0, pendingBytes: 0, droppedSamples: 0, rejectedSamples: 0 },
  };
}

/** Host facts as the reader gives them, without reading this machine. */
export const FACTS = async () => ({
  os: 'test',
  kernel: 'k',
  arch: 'x64',
  cpuModel: 'cpu',
  cpuCores: 1,
  manufacturer: '',
  product: '',
  gpus: [],
});

export function config(env: Record<string, string> = {}): Config {
  return loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
}

/** A logger that keeps each line as "level: message {fields}". */
export function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${level}: ${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, error: log('error'), warn: log('warn'), info: log('info'), debug: () => {} };
}

/** A request's body as text (the control protocol's JSON). */
export function bodyText(request: HttpRequest): string {
  const body = request.body ?? '';
  return typeof body === 'string' ? body : Buffer.from(body).toString('utf8');
}

/** The metric names OpsWorks Stacks published for a host, which the CloudWatch sink keeps. */
export const OPSWORKS_METRICS = [
  'cpu_idle',
  'cpu_nice',
  'cpu_steal',
  'cpu_system',
  'cpu_user',
  'cpu_waitio',
  'memory_buffers',
  'memory_cached',
  'memory_free',
  'memory_swap',
  'memory_total',
  'memory_used',
  'load_1',
  'load_5',
  'load_15',
  'procs',
];

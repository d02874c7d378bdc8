/**
 * Hosts of a fleet as `reboot-slot` sees them, on one machine: each is the
 * real CLI in its own process with its own instance id (a loopback IMDSv2),
 * its own clock (`faketime`, when skewed) and every endpoint on loopback:
 * SSM is moto_server, or a proxy in front of it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';

import { startImds } from '../doctor/loopback.ts';
import { CLI } from '../../support/paths.ts';
import { MOTO_REGION } from '../../support/moto.ts';

/** A port nothing listens on: any endpoint a test does not need fails at once, and stays on this machine. */
const DEAD = 'http://127.0.0.1:9';
export const LOCK_PATH = '/ecs-host-agent-tests/reboot-slots';
const CLI_TIMEOUT_MS = 120_000;

export interface SlotHost {
  readonly instanceId: string;
  readonly env: Readonly<Record<string, string>>;
  /** Seconds this host's clock is ahead (negative: behind). */
  readonly skewSeconds: number;
}

export interface FleetSetup {
  readonly ssmEndpoint: string;
  readonly cluster: string;
  readonly slots: number;
  /** More agent config, e.g. REBOOT_LOCK_TTL. */
  readonly env?: Readonly<Record<string, string>>;
}

export function newInstanceId(): string {
  return `i-${randomBytes(8).toString('hex')}`;
}

export async function startHost(t: TestContext, fleet: FleetSetup, skewSeconds = 0): Promise<SlotHost> {
  const instanceId = newInstanceId();
  const imds = await startImds(t, { '/latest/meta-data/instance-id': instanceId });
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: MOTO_REGION,
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
    AWS_ENDPOINT_URL_SSM: fleet.ssmEndpoint,
    AWS_ENDPOINT_URL_ECS: DEAD,
    AWS_ENDPOINT_URL_S3: DEAD,
    AWS_ENDPOINT_URL_ECR: DEAD,
    AWS_ENDPOINT_URL_CLOUDWATCH: DEAD,
    ECSINIT_BASE_URL: DEAD,
    CONTROL_URL: '',
    ECS_CLUSTER: fleet.cluster,
    MAX_CONCURRENT_REBOOTS: String(fleet.slots),
    REBOOT_LOCK_PATH: LOCK_PATH,
    ...fleet.env,
  };
  return { instanceId, env, skewSeconds };
}

export interface SlotRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** On the test's clock, which is moto's: this machine's, unskewed. */
  readonly startedAt: number;
  readonly endedAt: number;
}

/** Children still running, stopped by PID when a test ends. */
const running = new Set<ChildProcess>();

export function stopStragglers(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** `ecs-host-agent reboot-slot ARGS` as the host runs it; onSpawn gets the child (to kill it mid-way). */
export function runSlotCli(
  host: SlotHost,
  args: readonly string[],
  onSpawn?: (child: ChildProcess) => void,
): Promise<SlotRun> {
  const command = [process.execPath, CLI, 'reboot-slot', ...args];
  const [file, ...argv] = host.skewSeconds === 0 ? command : ['faketime', '-f', skewSpec(host.skewSeconds), ...command];
  const startedAt = Date.now();
  const child = spawn(file as string, argv, { env: host.env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      running.delete(child);
      resolve({ status: code, stdout, stderr, startedAt, endedAt: Date.now() });
    });
  });
}

function skewSpec(seconds: number): string {
  return `${seconds >= 0 ? '+' : ''}${seconds}s`;
}

/** faketime must be there and must move Node's clock: else the skew tests would test nothing. */
export function requireFaketime(): void {
  let shown: number;
  try {
    shown = Number(
      execFileSync('faketime', ['-f', '+150s', process.execPath, '-e', 'process.stdout.write(String(Date.now()))'], {
        encoding: 'utf8',
      }),
    );
  } catch (error) {
    throw new Error(
      `faketime (Debian package faketime) is needed to skew the hosts' clocks: ${(error as Error).message}`,
    );
  }
  const skew = shown - Date.now();
  if (skew < 140_000 || skew > 160_000) {
    throw new Error(`faketime -f +150s gave Node a clock ${skew} ms ahead, not 150 s`);
  }
}

/** The JSON a command printed, or a failure that shows what it printed instead. */
export function jsonOf<T = Record<string, unknown>>(run: SlotRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.status}): ${run.stdout}\n${run.stderr}`);
  }
}

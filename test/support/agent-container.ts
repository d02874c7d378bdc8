/**
 * The package as a user gets it: the .deb that `npm run package` builds, installed with dpkg into a copy of the
 * suite's Debian 12 systemd root before it boots (as an image is built), then booted with systemd as PID 1
 * (./nspawn.ts). Every AWS endpoint the agent could reach points at a dead loopback port inside the container,
 * which has no network anyway.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

import { buildPackages } from '../../packaging/build.ts';
import { bootContainer, type Container } from './nspawn.ts';
import { DEAD_ENDPOINTS, OFFLINE_ENV, SDK_ENV } from './offline-env.ts';
import { scratchDir } from './scratch.ts';

export const AGENT_UNIT = 'ecs-host-agent.service';
export const DECOMMISSION_UNIT = 'ecs-host-agent-decommission.service';
export const AGENT_ENV = '/etc/ecs-host-agent/agent.env';
export const STATUS_FILE = '/var/lib/ecs-host-agent/status.json';
/** agent.env lines that keep every request of the agent on loopback. */
export const LOOPBACK_ENDPOINTS = [
  ...Object.entries(DEAD_ENDPOINTS).map(([key, value]) => `${key}=${value}`),
  `AWS_REGION=${OFFLINE_ENV.AWS_REGION}`,
  'ECS_CLUSTER=test-cluster',
];

export function agentEnv(...extra: string[]): string {
  return [...LOOPBACK_ENDPOINTS, ...extra].map((line) => `${line}\n`).join('');
}

/** The amd64 .deb, built the quick way (gzip) into a scratch directory of the test. */
export async function buildAgentDeb(t: TestContext): Promise<string> {
  const [deb] = await buildPackages({
    arches: ['amd64'],
    formats: ['deb'],
    outDir: scratchDir(t, 'eha-deb-'),
    compression: 'fast',
  });
  if (!deb) throw new Error('no .deb was built');
  return deb.path;
}

export interface AgentContainerOptions {
  readonly agentEnv: string;
  /** More changes to the root after the package is installed, before it boots. */
  readonly prepare?: (root: string) => void;
}

/** Boots a container whose image has the package installed and agent.env written; the agent starts with it. */
export async function bootWithAgent(t: TestContext, deb: string, options: AgentContainerOptions): Promise<Container> {
  return bootContainer(t, {
    prepare: (root) => {
      installPackages(root, [gpgStandIn(t), deb]);
      writeFileSync(`${root}${AGENT_ENV}`, options.agentEnv, { mode: 0o600 });
      // What agent.env cannot say: the AWS SDK's own CloudWatch endpoint variable, and credentials, so its
      // credential chain stops here instead of asking IMDS (which is dead too).
      const dropIn = `${root}/etc/systemd/system/${AGENT_UNIT}.d`;
      mkdirSync(dropIn, { recursive: true });
      const environment = Object.entries(SDK_ENV)
        .map(([key, value]) => `${key}=${value}`)
        .join(' ');
      writeFileSync(`${dropIn}/test-environment.conf`, `[Service]\nEnvironment=${environment}\n`);
      options.prepare?.(root);
    },
  });
}

/** dpkg in a chroot of the unbooted root: the maintainer scripts see no running systemd and only enable. */
function installPackages(root: string, debs: readonly string[]): void {
  const inside = debs.map((_, index) => `/var/tmp/eha-install-${index}.deb`);
  debs.forEach((deb, index) => execFileSync('cp', ['--', deb, `${root}${inside[index]}`]));
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };
  try {
    execFileSync('chroot', [root, 'dpkg', '-i', ...inside], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(`dpkg -i in the container root failed:\n${String(stderr ?? '')}${String(stdout ?? '')}`);
  } finally {
    for (const path of inside) rmSync(`${root}${path}`, { force: true });
  }
}

/**
 * An empty package named gpg, at bookworm's version: the package depends on gpg (ecs-init's signature check),
 * which the offline container cannot download, and nothing in these tests gets as far as a signature. With it,
 * dpkg and apt see a consistent system, as on a real host, instead of a dependency waived by hand.
 */
export function gpgStandIn(t: TestContext): string {
  const dir = scratchDir(t, 'eha-gpg-');
  mkdirSync(`${dir}/pkg/DEBIAN`, { recursive: true });
  const control = [
    'Package: gpg',
    'Version: 2.2.40-1.1',
    'Architecture: all',
    'Maintainer: tests <tests@invalid>',
    'Description: stand-in for the tests',
    '',
  ];
  writeFileSync(`${dir}/pkg/DEBIAN/control`, control.join('\n'));
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '--build', `${dir}/pkg`, `${dir}/gpg.deb`], {
    stdio: 'ignore',
  });
  return `${dir}/gpg.deb`;
}

/** `systemctl show` properties of a unit. */
export function unitProperties(container: Container, unit: string, names: readonly string[]): Record<string, string> {
  const out = container.run(['systemctl', 'show', `--property=${names.join(',')}`, '--', unit]);
  return Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

/** The processes in a unit's cgroup, as "PID COMMAND". */
export function unitProcesses(container: Container, unit: string): string[] {
  const group = unitProperties(container, unit, ['ControlGroup']).ControlGroup;
  if (!group) return [];
  // cgroup v2, or the hybrid layout (v1 controllers; systemd's tree under unified/ and systemd/): missing ones fail.
  const files = ['', '/unified', '/systemd'].map((mount) => `/sys/fs/cgroup${mount}${group}/cgroup.procs`);
  const pids = new Set(
    container
      .exec(['cat', ...files])
      .stdout.split('\n')
      .filter(Boolean),
  );
  return [...pids].map((pid) => `${pid} ${container.exec(['cat', `/proc/${pid}/comm`]).stdout.trim()}`);
}

/** The unit's journal since boot, messages only. */
export function journal(container: Container, unit: string): string {
  return container.run(['journalctl', '--no-pager', '--output=cat', '--unit', unit]);
}

/** Polls until check returns a value (not undefined), or fails naming what was awaited. */
export async function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

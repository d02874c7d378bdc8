import type { Ecs } from '../../../src/aws/ecs.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Check, Finding } from '../../../src/doctor/check.ts';
import { type ControlProbe, createDoctorContext, type DoctorContext } from '../../../src/doctor/context.ts';
import type { FsStats } from '../../../src/host/host.ts';
import { type FakeHost, textResponse } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

/**
 * A Debian 12 FakeHost set up as a healthy ECS host (systemd, cgroup v2,
 * Docker and ecs-init installed and running, IMDS, ecs.config), which each
 * test then breaks in one way.
 */
export const IMDS = 'http://127.0.0.1:1338';
export const CLUSTER = 'prod';
export const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
export const IDENTITY = {
  instanceId: 'i-0123456789abcdef0',
  region: 'eu-west-1',
  accountId: '123456789012',
  instanceType: 't3.medium',
  imageId: 'ami-0123456789abcdef0',
};

export interface HealthyHost {
  readonly host: FakeHost;
  /** Units systemctl reports enabled and active; tests delete from them. */
  readonly enabled: Set<string>;
  readonly active: Set<string>;
  /** IMDS paths and their answers; a test deletes or replaces them. */
  readonly imds: Map<string, string>;
  dockerInfo: { exitCode: number; stdout: string; stderr: string };
}

export function healthyHost(): HealthyHost {
  const host = fakeHostFor('debian-12');
  host.directories.add('/run/systemd/system');
  host.putFile('/sys/fs/cgroup/cgroup.controllers', 'cpuset cpu io memory pids\n');
  const packages = [pkg('docker.io', '20.10.24+dfsg1-1'), pkg('amazon-ecs-init', '1.89.3-1')];
  packages.push(pkg('systemd', '252.22-1~deb12u1'));
  host.putFile('/var/lib/dpkg/status', packages.join('\n'));
  host.putFile('/etc/ecs/ecs.config', `ECS_CLUSTER=${CLUSTER}\nECS_ENABLE_TASK_IAM_ROLE=true\n`);
  host.putFile('/var/lib/ecs-host-agent/ecs-init-installed-by-agent', 'x');
  const state: HealthyHost = {
    host,
    enabled: new Set(['docker.service', 'ecs.service']),
    active: new Set(['docker.service', 'ecs.service']),
    imds: new Map([
      ['/latest/dynamic/instance-identity/document', JSON.stringify(IDENTITY)],
      ['/latest/meta-data/iam/security-credentials/', 'ecsInstanceRole'],
      [
        '/latest/meta-data/iam/security-credentials/ecsInstanceRole',
        JSON.stringify({
          Code: 'Success',
          AccessKeyId: 'ASIAEXAMPLE',
          SecretAccessKey: 'secret-never-printed',
          Token: 't',
          Expiration: '2026-11-22T18:00:00Z',
        }),
      ],
    ]),
    dockerInfo: {
      exitCode: 0,
      stdout: JSON.stringify({ ServerVersion: '20.10.24', Driver: 'overlay2', DockerRootDir: '/var/lib/docker' }),
      stderr: '',
    },
  };
  host.onExec((file, args) => {
    if (file === 'systemctl') {
      const unit = args.at(-1) as string;
      const on = args[0] === 'is-enabled' ? state.enabled.has(unit) : state.active.has(unit);
      return { exitCode: on ? 0 : 3, stdout: '', stderr: '' };
    }
    if (file === 'docker') return state.dockerInfo;
    return undefined;
  });
  host.onHttp((request) => {
    if (!request.url.startsWith(IMDS)) return undefined;
    const path = request.url.slice(IMDS.length);
    if (path === '/latest/api/token')
      return request.method === 'PUT' ? textResponse(200, 'token') : textResponse(405, '');
    if (request.headers?.['X-aws-ec2-metadata-token'] !== 'token') return textResponse(401, '');
    const answer = state.imds.get(path);
    return answer === undefined ? textResponse(404, '') : textResponse(200, answer);
  });
  host.filesystems.set('/var/lib/docker', fsStats(100, 40));
  return state;
}

function pkg(name: string, version: string): string {
  return `Package: ${name}\nStatus: install ok installed\nVersion: ${version}\n`;
}

/** A filesystem of `totalGiB` with `usedGiB` taken (4 KiB blocks, nothing reserved). */
export function fsStats(totalGiB: number, usedGiB: number): FsStats {
  const block = 4096;
  const blocks = (totalGiB * 2 ** 30) / block;
  const free = ((totalGiB - usedGiB) * 2 ** 30) / block;
  return {
    type: 0xef53,
    blockSize: block,
    blocks,
    blocksFree: free,
    blocksAvailable: free,
    files: 1000,
    filesFree: 500,
  };
}

export interface ContextOptions {
  readonly env?: Record<string, string>;
  readonly agentEnv?: string;
  readonly ecsClient?: Ecs;
  readonly controlProbe?: ControlProbe;
}

export function doctorContext(host: FakeHost, options: ContextOptions = {}): DoctorContext {
  const own = options.agentEnv ?? '';
  const cluster = own.includes('ECS_CLUSTER=') ? '' : `ECS_CLUSTER=${CLUSTER}\n`;
  const agentEnv = `${cluster}AWS_EC2_METADATA_SERVICE_ENDPOINT=${IMDS}\n${own}`;
  const config = loadConfig({ file: '/etc/ecs-host-agent/agent.env', fileText: agentEnv, env: {}, flags: {} });
  return createDoctorContext({
    host,
    config,
    env: options.env ?? {},
    ...(options.ecsClient ? { ecsClient: () => options.ecsClient as Ecs } : {}),
    ...(options.controlProbe ? { controlProbe: options.controlProbe } : {}),
  });
}

export function runCheck(check: Check, host: FakeHost, options: ContextOptions = {}): Promise<Finding> {
  return check.run(doctorContext(host, options));
}

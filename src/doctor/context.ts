import { createEcs, type Ecs } from '../aws/ecs.ts';
import { createImds, type Imds } from '../aws/imds.ts';
import type { Config } from '../core/config/load.ts';
import { decodeLossless } from '../core/config/text.ts';
import { AgentError, messageOf } from '../core/errors.ts';
import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import { gatherOsFacts, type OsFacts } from '../os/facts.ts';
import { type DockerInfo, readDockerInfo } from './docker-info.ts';
import { type InstanceIdentity, readIdentity } from './identity.ts';
import { type ProxySettings, proxySettings } from './proxy.ts';

/**
 * What the checks share: the facts are gathered once, on first use, so a
 * check that needs the region or the Docker daemon's answer does not ask
 * again, and a check whose input is missing says why instead of failing alike.
 */
export type ControlProbe = (
  config: Config,
) => Promise<{ readonly reachable: boolean; readonly evidence: string; readonly fix?: string }>;

export interface DoctorOptions {
  readonly host: Host;
  readonly config: Config;
  /** The doctor's own environment: proxy settings when /etc/ecs/ecs.config has none. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly dockerSocket?: string;
  /** Bound of every network step (connect, handshake, request). */
  readonly timeoutMs?: number;
  /** Asks the control endpoint with the configured auth; null when this build has no control client. */
  readonly controlProbe?: ControlProbe | null;
  /** For tests: the ECS client for a region. */
  readonly ecsClient?: (region: string) => Ecs;
}

export interface DoctorContext {
  readonly host: Host;
  readonly config: Config;
  readonly dockerSocket: string;
  readonly timeoutMs: number;
  readonly controlProbe: ControlProbe | null;
  readonly imds: Imds;
  os(): Promise<OsFacts>;
  /** The text of /etc/ecs/ecs.config, or null. */
  ecsConfig(): Promise<string | null>;
  identity(): Promise<InstanceIdentity>;
  /** AWS_REGION, else the instance's region; rejects saying why neither is known. */
  region(): Promise<string>;
  ecs(): Promise<Ecs>;
  dockerInfo(): Promise<DockerInfo>;
  proxy(): Promise<ProxySettings>;
}

const DEFAULT_TIMEOUT_MS = 5000;
export const DOCKER_SOCKET = '/var/run/docker.sock';

export function createDoctorContext(options: DoctorOptions): DoctorContext {
  const { host, config } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const dockerSocket = options.dockerSocket ?? DOCKER_SOCKET;
  const imds = createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT, timeoutMs);
  const ecsConfig = once(() => readEcsConfig(host));
  const identity = once(() => readIdentity(imds));
  const region = once(async () => {
    if (config.AWS_REGION !== null) return config.AWS_REGION;
    try {
      return (await identity()).region;
    } catch (error) {
      throw new AgentError(
        `no region: AWS_REGION is not set and the instance identity could not be read (${messageOf(error)})`,
      );
    }
  });
  const makeClient =
    options.ecsClient ??
    ((name: string) => createEcs(host, { region: name, ecsEndpoint: config.AWS_ENDPOINT_URL_ECS, ssmEndpoint: null }));
  return {
    host,
    config,
    dockerSocket,
    timeoutMs,
    controlProbe: options.controlProbe ?? null,
    imds,
    os: once(() => gatherOsFacts(host)),
    ecsConfig,
    identity,
    region,
    ecs: once(async () => makeClient(await region())),
    dockerInfo: once(() => readDockerInfo(host, dockerSocket, timeoutMs)),
    proxy: once(async () => proxySettings(await ecsConfig(), options.env)),
  };
}

/** Decoded losslessly, as the ecs-config concern reads it: invalid UTF-8 stays visible to the reader models. */
async function readEcsConfig(host: Host): Promise<string | null> {
  return (await host.stat(PATHS.ecsConfig)) === null ? null : decodeLossless(await host.readBytes(PATHS.ecsConfig));
}

/** The first call runs fn; every call gets its promise (a rejection too). */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | null = null;
  return () => (promise ??= fn());
}

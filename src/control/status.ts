import packageJson from '../../package.json' with { type: 'json' };
import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import type { HostFactsReader } from '../metrics/host-facts.ts';
import type { Sample } from '../metrics/sample.ts';
import type { ConcernResult, HostStatus, PendingUpdates, SpoolStatus, StorageUsage } from './protocol.ts';

/**
 * The host status sent with every batch. Facts come from the once-read
 * host facts (host-facts.ts), storage and ECS from the latest sample (no
 * `btrfs` or `docker` process per batch); what other parts of the daemon know
 * (converge results, pending updates) comes from their sources when wired.
 */
export interface StatusSources {
  concerns?(): readonly ConcernResult[] | null;
  pendingUpdates?(): PendingUpdates | null;
}

const STORE_MOUNT = '/var/lib/docker';

export class StatusReporter {
  readonly #config: Config;
  readonly #facts: HostFactsReader;
  readonly #instanceId: () => Promise<string | null>;
  readonly #sources: StatusSources;
  latest: Sample | null = null;

  constructor(
    config: Config,
    facts: HostFactsReader,
    instanceId: () => Promise<string | null>,
    sources: StatusSources = {},
  ) {
    this.#config = config;
    this.#facts = facts;
    this.#instanceId = instanceId;
    this.#sources = sources;
  }

  async build(spool: SpoolStatus): Promise<HostStatus> {
    const ecs = this.latest?.ecs;
    return {
      agentVersion: packageJson.version,
      instanceId: await this.#instanceId(),
      facts: await this.#facts().catch(() => null),
      ecs: {
        configuredCluster: this.#config.ECS_CLUSTER,
        agentAnswering: ecs?.agentAnswering ?? false,
        cluster: ecs?.cluster ?? null,
        containerInstanceArn: ecs?.containerInstanceArn ?? null,
      },
      concerns: this.#sources.concerns?.() ?? null,
      pendingUpdates: this.#sources.pendingUpdates?.() ?? null,
      storage: this.#storage(),
      spool,
    };
  }

  #storage(): StorageUsage | null {
    if (this.#config.STORAGE_MODE === 'none') return null;
    const disk = this.latest?.disks.find((d) => d.mount === STORE_MOUNT);
    if (!disk) return null;
    const capacity = disk.usedBytes + disk.freeBytes;
    return {
      mode: this.#config.STORAGE_MODE,
      mountPoint: STORE_MOUNT,
      totalBytes: disk.totalBytes,
      usedBytes: disk.usedBytes,
      freeBytes: disk.freeBytes,
      usedPercent: capacity === 0 ? 100 : Math.round((disk.usedBytes / capacity) * 1000) / 10,
    };
  }
}

/** /etc/machine-id, or the host name where there is none: stable across restarts. */
export async function readHostId(host: Host): Promise<string> {
  const machineId = (await host.stat('/etc/machine-id')) ? (await host.readText('/etc/machine-id')).trim() : '';
  if (/^[0-9a-f]{32}$/.test(machineId)) return machineId;
  return (
    host
      .hostname()
      .replace(/[^A-Za-z0-9._-]/g, '-')
      .slice(0, 128) || 'unknown-host'
  );
}

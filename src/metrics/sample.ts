/**
 * One sample of the host, as it is sent to the control endpoint (protocol v1),
 * written to the local sink and rendered for Prometheus. Byte counts are bytes,
 * percentages 0-100 over the time since the previous sample, and network
 * counters are totals since boot (consumers take rates).
 */
export interface CpuPercent {
  readonly user: number;
  readonly nice: number;
  readonly system: number;
  readonly idle: number;
  /** OpsWorks cpu_waitio: time idle while waiting for I/O. */
  readonly waitio: number;
  readonly steal: number;
  /** Hardware and software interrupts. */
  readonly irq: number;
}

export interface LoadAverage {
  readonly load1: number;
  readonly load5: number;
  readonly load15: number;
}

export interface Memory {
  readonly total: number;
  readonly free: number;
  readonly available: number;
  readonly buffers: number;
  readonly cached: number;
  /** total - free - buffers - cached (cached includes reclaimable slab), as free(1) shows it. */
  readonly used: number;
  readonly swapTotal: number;
  readonly swapUsed: number;
}

export interface BtrfsAllocation {
  readonly dataTotal: number;
  readonly dataUsed: number;
  readonly metadataTotal: number;
  readonly metadataUsed: number;
}

export interface Disk {
  readonly mount: string;
  readonly device: string;
  readonly fsType: string;
  readonly totalBytes: number;
  readonly usedBytes: number;
  /** Available to unprivileged users, as df shows it. */
  readonly freeBytes: number;
  readonly inodesTotal: number;
  readonly inodesFree: number;
  /** Btrfs only: how the filesystem allocated its space (from /sys/fs/btrfs, no process). */
  readonly btrfs?: BtrfsAllocation;
}

export interface NetworkInterface {
  readonly name: string;
  readonly rxBytes: number;
  readonly rxPackets: number;
  readonly rxErrors: number;
  readonly rxDropped: number;
  readonly txBytes: number;
  readonly txPackets: number;
  readonly txErrors: number;
  readonly txDropped: number;
}

export interface ContainerStats {
  readonly id: string;
  readonly name: string;
  readonly image: string;
  /** From the ECS agent's container label, when the container belongs to a task. */
  readonly taskArn: string | null;
  /** CPU time since the container started. */
  readonly cpuSeconds: number;
  /** Percent of one CPU since the previous sample; null on the first sample of a container. */
  readonly cpuPercent: number | null;
  /** Usage without the inactive page cache, as `docker stats` shows it. */
  readonly memoryBytes: number;
  readonly memoryLimitBytes: number;
}

export interface Docker {
  readonly running: number;
  readonly containers: readonly ContainerStats[];
}

export interface Ecs {
  /** The ECS agent answers its introspection API. */
  readonly agentAnswering: boolean;
  readonly cluster: string | null;
  readonly containerInstanceArn: string | null;
  readonly runningTasks: number | null;
}

export interface AgentProcess {
  readonly rssBytes: number;
  /** User plus system CPU time of the agent since it started. */
  readonly cpuSeconds: number;
}

export interface CollectorError {
  readonly collector: string;
  readonly message: string;
}

export interface Sample {
  /** A UUID: receivers deduplicate by it. */
  readonly id: string;
  /** ISO 8601, UTC. */
  readonly time: string;
  readonly cpu: CpuPercent;
  readonly load: LoadAverage;
  readonly memory: Memory;
  /** Processes (not threads) on the host. */
  readonly procs: number;
  readonly disks: readonly Disk[];
  readonly network: readonly NetworkInterface[];
  /** Null when no Docker daemon answers on METRICS_DOCKER_SOCKET. */
  readonly docker: Docker | null;
  readonly ecs: Ecs;
  readonly agent: AgentProcess;
  /** Collectors that failed this time; the other figures are still valid. */
  readonly errors: readonly CollectorError[];
}

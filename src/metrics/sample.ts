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

/** As `btrfs filesystem usage` reports them: Data and Metadata Size and Used, Device size and Device unallocated. */
export interface BtrfsAllocation {
  /** Space allocated to data chunks, and used inside them. */
  readonly dataTotal: number;
  readonly dataUsed: number;
  readonly metadataTotal: number;
  readonly metadataUsed: number;
  /** The filesystem's devices together. */
  readonly deviceBytes: number;
  /** Device space no chunk holds yet: at 0, new metadata chunks fail (ENOSPC) however much data space is free. */
  readonly unallocatedBytes: number;
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

/** A data volume from VOLUMES. */
export interface Volume {
  readonly mountPoint: string;
  /** As configured: an EBS volume id or a /dev path. */
  readonly volume: string;
  /** False also when the mount table could not be read this time (see errors). */
  readonly mounted: boolean;
  /** What is mounted there (/dev/nvme1n1); null when nothing is. */
  readonly device: string | null;
  /** Null when not mounted, or not measured this time (the reason is in errors). */
  readonly totalBytes: number | null;
  readonly usedBytes: number | null;
  /** Available to unprivileged users, as df shows it. */
  readonly freeBytes: number | null;
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
  readonly volumes: readonly Volume[];
  readonly network: readonly NetworkInterface[];
  /** Null when no Docker daemon answers on METRICS_DOCKER_SOCKET. */
  readonly docker: Docker | null;
  readonly ecs: Ecs;
  readonly agent: AgentProcess;
  /** Collectors that failed this time; the other figures are still valid. */
  readonly errors: readonly CollectorError[];
}

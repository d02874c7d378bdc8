import si from 'systeminformation';

/**
 * Facts that do not change while the agent runs (OS, CPU model, DMI, GPUs),
 * read once with systeminformation: it starts processes for some of them
 * (lspci for GPUs), which is fine once and is why it is kept off the per-sample path.
 */
export interface HostFacts {
  readonly os: string;
  readonly kernel: string;
  readonly arch: string;
  readonly cpuModel: string;
  readonly cpuCores: number;
  /** DMI system manufacturer and product ("Amazon EC2", "m7g.large"). */
  readonly manufacturer: string;
  readonly product: string;
  readonly gpus: readonly string[];
}

export type HostFactsReader = () => Promise<HostFacts>;

export const readHostFacts: HostFactsReader = async () => {
  const [os, cpu, system, graphics] = await Promise.all([si.osInfo(), si.cpu(), si.system(), si.graphics()]);
  return {
    os: [os.distro, os.release].filter(Boolean).join(' '),
    kernel: os.kernel,
    arch: os.arch,
    cpuModel: [cpu.manufacturer, cpu.brand].filter(Boolean).join(' '),
    cpuCores: cpu.cores,
    manufacturer: system.manufacturer,
    product: system.model,
    gpus: graphics.controllers.map((gpu) => [gpu.vendor, gpu.model].filter(Boolean).join(' ')).filter(Boolean),
  };
};

/** Reads the facts on first use and keeps them; a failure is retried on the next use. */
export function cachedHostFacts(read: HostFactsReader = readHostFacts): HostFactsReader {
  let facts: Promise<HostFacts> | null = null;
  return () => {
    facts ??= read().catch((error: unknown) => {
      facts = null;
      throw error;
    });
    return facts;
  };
}

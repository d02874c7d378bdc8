import { type Host, readTextIfExists } from '../host/host.ts';
import { readRelease } from '../os/release.ts';

/**
 * Facts that do not change while the agent runs (OS, CPU model, DMI, GPUs),
 * read once, from the files the kernel and the system keep them in: the
 * sampler's own sources, /proc and /sys, and /etc/os-release. Not
 * systeminformation: for these eight facts it started 45 processes through
 * /bin/sh (dmesg, dmidecode, xrandr, clinfo ...), took 0.5 to 1.8 s and left
 * 3 MB resident in the daemon (docs/benchmarks.md). One process at most:
 * lspci, for the names of display-class PCI devices, only when there are any;
 * lscpu, for the CPU's name, only where /proc/cpuinfo has none (arm64).
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

const DMI = '/sys/class/dmi/id';
const PCI_DEVICES = '/sys/bus/pci/devices';
/** PCI class 0x03: display controllers (VGA, XGA, 3D). */
const DISPLAY_CLASS = /^0x03/;

export function hostFactsReader(host: Host): HostFactsReader {
  return async () => {
    const [release, kernel, cpuinfo, manufacturer, product, gpus] = await Promise.all([
      readRelease(host),
      readTextIfExists(host, '/proc/sys/kernel/osrelease'),
      readTextIfExists(host, '/proc/cpuinfo'),
      readTextIfExists(host, `${DMI}/sys_vendor`),
      readTextIfExists(host, `${DMI}/product_name`),
      displayDevices(host),
    ]);
    return {
      os: release?.prettyName ?? '',
      kernel: kernel?.trim() ?? '',
      arch: process.arch,
      cpuModel: cpuField(cpuinfo ?? '', 'model name') ?? (await lscpuModel(host)),
      cpuCores: (cpuinfo ?? '').match(/^processor\s*:/gm)?.length ?? 0,
      manufacturer: manufacturer?.trim() ?? '',
      product: product?.trim() ?? '',
      gpus,
    };
  };
}

function cpuField(cpuinfo: string, name: string): string | null {
  return new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? null;
}

/** arm64's /proc/cpuinfo has part numbers only; lscpu knows their names (Neoverse-V1 ...). */
async function lscpuModel(host: Host): Promise<string> {
  const result = await host.exec('lscpu', []).catch(() => null);
  return (result?.exitCode === 0 && /^Model name:\s*(.+)$/m.exec(result.stdout)?.[1]?.trim()) || '';
}

async function displayDevices(host: Host): Promise<string[]> {
  if ((await host.stat(PCI_DEVICES)) === null) return [];
  const devices: { slot: string; ids: string }[] = [];
  for (const slot of await host.readdir(PCI_DEVICES)) {
    const [deviceClass, vendor, device] = await Promise.all(
      ['class', 'vendor', 'device'].map(
        async (file) => (await readTextIfExists(host, `${PCI_DEVICES}/${slot}/${file}`))?.trim() ?? '',
      ),
    );
    if (DISPLAY_CLASS.test(deviceClass as string))
      devices.push({ slot, ids: `${vendor?.replace(/^0x/, '')}:${device?.replace(/^0x/, '')}` });
  }
  if (devices.length === 0) return [];
  const names = await lspciNames(
    host,
    devices.map((d) => d.slot),
  );
  return devices.map(({ slot, ids }) => names.get(slot) ?? `PCI device ${ids}`);
}

/**
 * "vendor device" of each slot from `lspci -mm -D` (machine-readable, quoted
 * fields: slot, class, vendor, device, ...); none when lspci is not installed.
 */
async function lspciNames(host: Host, slots: readonly string[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const result = await host.exec('lspci', ['-mm', '-D']).catch(() => null);
  if (result?.exitCode !== 0) return names;
  for (const line of result.stdout.split('\n')) {
    const fields = [...line.matchAll(/"([^"]*)"/g)].map((match) => match[1] as string);
    const slot = line.split(' ', 1)[0] as string;
    if (slots.includes(slot) && fields.length >= 3) names.set(slot, `${fields[1]} ${fields[2]}`.trim());
  }
  return names;
}

/** Reads the facts on first use and keeps them; a failure is retried on the next use. */
export function cachedHostFacts(read: HostFactsReader): HostFactsReader {
  let facts: Promise<HostFacts> | null = null;
  return () => {
    facts ??= read().catch((error: unknown) => {
      facts = null;
      throw error;
    });
    return facts;
  };
}

import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';

/**
 * Facts about the machine the system runs on: architecture and C library from
 * the system's own files (so they describe an image root too), and init
 * system, cgroups and GPUs, which only a running system has (null under --root).
 */
export type Arch = 'x86_64' | 'aarch64';

export interface CgroupFacts {
  readonly version: 1 | 2;
  readonly memoryController: boolean;
}

const ELF_MACHINES: Readonly<Record<number, Arch>> = { 0x3e: 'x86_64', 0xb7: 'aarch64' };

export async function detectArch(host: Host): Promise<Arch | null> {
  for (const path of ['/bin/sh', '/usr/bin/env']) {
    if ((await host.stat(path))?.kind !== 'file') continue;
    const header = await host.readBytes(path);
    if (header[0] === 0x7f && header[1] === 0x45 && header[2] === 0x4c && header[3] === 0x46) {
      return ELF_MACHINES[(header[18] ?? 0) | ((header[19] ?? 0) << 8)] ?? null;
    }
  }
  return null;
}

const LIBC_PATHS = [
  '/lib/x86_64-linux-gnu/libc.so.6',
  '/lib/aarch64-linux-gnu/libc.so.6',
  '/usr/lib/x86_64-linux-gnu/libc.so.6',
  '/usr/lib/aarch64-linux-gnu/libc.so.6',
  '/usr/lib64/libc.so.6',
  '/lib64/libc.so.6',
];

/** glibc's version, read from the banner it carries ("stable release version 2.36"). */
export async function detectGlibc(host: Host): Promise<string | null> {
  for (const path of LIBC_PATHS) {
    if ((await host.stat(path))?.kind !== 'file') continue;
    const version = glibcBanner(Buffer.from(await host.readBytes(path)));
    if (version) return version;
  }
  return null;
}

const BANNER = 'GNU C Library';
/** The banner's line is under 200 bytes; only it is decoded, not the megabytes of the library. */
const BANNER_LINE_BYTES = 512;

function glibcBanner(library: Buffer): string | null {
  for (let at = library.indexOf(BANNER); at !== -1; at = library.indexOf(BANNER, at + 1)) {
    const line = library.toString('latin1', at, at + BANNER_LINE_BYTES).split('\n', 1)[0] as string;
    const version = /version (\d+\.\d+)/.exec(line)?.[1];
    if (version) return version;
  }
  return null;
}

/** sd_booted(3): systemd is PID 1 exactly when /run/systemd/system is a directory. */
export async function detectSystemdRunning(host: Host): Promise<boolean | null> {
  if (host.root !== '/') return null;
  return (await host.lstat('/run/systemd/system'))?.kind === 'directory';
}

export async function detectCgroups(host: Host): Promise<CgroupFacts | null> {
  if (host.root !== '/') return null;
  const controllers = await readTextIfExists(host, '/sys/fs/cgroup/cgroup.controllers');
  if (controllers !== null) return { version: 2, memoryController: controllers.split(/\s+/).includes('memory') };
  if ((await host.stat('/sys/fs/cgroup/memory'))?.kind === 'directory') return { version: 1, memoryController: true };
  return null;
}

const NVIDIA_VENDOR = '0x10de';
const DISPLAY_CLASS = /^0x03/;

/** NVIDIA GPUs on the PCI bus (vendor 0x10de, display class 0x03xxxx). */
export async function detectNvidiaGpus(host: Host): Promise<number | null> {
  if (host.root !== '/') return null;
  if ((await host.stat('/sys/bus/pci/devices')) === null) return 0;
  let count = 0;
  for (const device of await host.readdir('/sys/bus/pci/devices')) {
    const vendor = await readTextIfExists(host, `/sys/bus/pci/devices/${device}/vendor`);
    const deviceClass = await readTextIfExists(host, `/sys/bus/pci/devices/${device}/class`);
    if (vendor?.trim() === NVIDIA_VENDOR && DISPLAY_CLASS.test(deviceClass?.trim() ?? '')) count++;
  }
  return count;
}

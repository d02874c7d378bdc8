import { createStorageConcern } from '../../../src/concerns/storage/index.ts';
import type { StorageAction } from '../../../src/concerns/storage/plan.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { ExecResult } from '../../../src/host/host.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

/**
 * A Debian 12 FakeHost that also plays the block-device tools the storage
 * concern runs (blkid, findmnt, losetup, lsblk, mkfs.btrfs, mount …), keeping
 * their state, so plan → apply → plan can be checked without a kernel.
 */
export interface FakeSignature {
  readonly TYPE?: string;
  readonly LABEL?: string;
  readonly UUID?: string;
  readonly PTTYPE?: string;
}

export class FakeMachine {
  readonly host: FakeHost;
  readonly signatures = new Map<string, FakeSignature>();
  /** Mount point → source. */
  readonly mounts = new Map<string, string>();
  /** Loop device → backing file. */
  readonly loops = new Map<string, string>();
  readonly blockDevices: { path: string; size: number; serial: string | null }[] = [];
  readonly activeUnits = new Set<string>();
  dockerDriver: string | null = null;
  /** Tools made to fail, by name. */
  readonly failures = new Map<string, ExecResult>();
  usageText = USAGE_TEXT;

  constructor(root = '/') {
    this.host = fakeHostFor('debian-12', root);
    this.host.onExec((file, args) => this.#answer(file, args));
  }

  installBtrfsProgs(): this {
    this.host.putFile('/var/lib/dpkg/status', 'Package: btrfs-progs\nStatus: install ok installed\nVersion: 6.2-1\n\n');
    return this;
  }

  /** A 1 GiB disk, optionally holding something. */
  addDisk(path: string, signature?: FakeSignature, serial: string | null = null): this {
    this.blockDevices.push({ path, size: 2 ** 30, serial });
    if (signature) this.signatures.set(path, signature);
    return this;
  }

  #answer(file: string, args: readonly string[]): ExecResult | undefined {
    const failure = this.failures.get(file);
    if (failure) return failure;
    const operands = args.slice(args.indexOf('--') + 1);
    switch (file) {
      case 'apt-get':
        if (args.includes('install')) this.installBtrfsProgs();
        return ok();
      case 'blkid':
        return this.#blkid(operands[0] as string);
      case 'findmnt': {
        const source = this.mounts.get(args[args.length - 1] as string);
        return source === undefined
          ? { ...ok(), exitCode: 1 }
          : ok(JSON.stringify({ filesystems: [{ source, fstype: 'btrfs' }] }));
      }
      case 'losetup':
        return this.#losetup(args);
      case 'lsblk': {
        const devices = this.blockDevices.filter((d) => !args.includes('--') || d.path === operands[0]);
        return ok(JSON.stringify({ blockdevices: devices }));
      }
      case 'truncate':
        this.host.putFile(operands[0] as string, '', 0o600);
        return ok();
      case 'wipefs':
        this.signatures.delete(operands[0] as string);
        return ok();
      case 'mkfs.btrfs':
        if (this.signatures.has(operands[0] as string))
          return { ...ok(), exitCode: 1, stderr: 'ERROR: existing filesystem' };
        this.signatures.set(operands[0] as string, {
          TYPE: 'btrfs',
          LABEL: args[1] as string,
          UUID: '11111111-2222-3333-4444-555555555555',
        });
        return ok();
      case 'mount':
        return this.#mount(args.includes('loop'), operands[0] as string, operands[1] as string);
      case 'umount':
        this.#unmount(operands[0] as string);
        return ok();
      case 'systemctl':
        return this.#systemctl(args);
      case 'btrfs':
        return ok(this.usageText);
      case 'docker':
        return this.dockerDriver === null
          ? { ...ok(), exitCode: 1, stderr: 'Cannot connect' }
          : ok(`${this.dockerDriver}\n`);
      case 'cp':
      case 'find':
      case 'rmdir':
        return ok();
      default:
        return undefined;
    }
  }

  #blkid(path: string): ExecResult {
    const signature = this.signatures.get(path);
    if (!signature) return { ...ok(), exitCode: 2 };
    return ok(
      Object.entries(signature)
        .map(([key, value]) => `${key}=${value}\n`)
        .join(''),
    );
  }

  #losetup(args: readonly string[]): ExecResult {
    const file = args[args.indexOf('--associated') + 1];
    return ok(
      [...this.loops]
        .filter(([, backing]) => backing === file)
        .map(([loop]) => `${loop}\n`)
        .join(''),
    );
  }

  #mount(loop: boolean, source: string, target: string): ExecResult {
    if (this.mounts.has(target)) return { ...ok(), exitCode: 32, stderr: 'already mounted' };
    let device = source;
    if (loop) {
      device = `/dev/loop${this.loops.size + 10}`;
      this.loops.set(device, source);
    }
    this.mounts.set(target, device);
    return ok();
  }

  #unmount(target: string): void {
    const source = this.mounts.get(target);
    this.mounts.delete(target);
    if (source !== undefined) this.loops.delete(source); // loop devices made by mount -o loop clear themselves
  }

  #systemctl(args: readonly string[]): ExecResult {
    const [verb] = args;
    const units = args.slice(args.indexOf('--') + 1);
    if (verb === 'is-active') return { ...ok(), exitCode: this.activeUnits.has(units[0] as string) ? 0 : 3 };
    if (verb === 'stop') for (const unit of units) this.activeUnits.delete(unit);
    if (verb === 'start') for (const unit of units) this.activeUnits.add(unit);
    if (verb === 'enable')
      for (const unit of units) this.host.putFile(`/etc/systemd/system/local-fs.target.wants/${unit}`, '');
    return ok();
  }
}

function ok(stdout = ''): ExecResult {
  return { exitCode: 0, stdout, stderr: '' };
}

/** `btrfs filesystem usage -b` of a 1 GiB filesystem (tabs as btrfs-progs prints them). */
export const USAGE_TEXT = `Overall:
    Device size:\t\t        1073741824
    Device allocated:\t\t         127926272
    Device unallocated:\t\t         945815552
    Device missing:\t\t                 0
    Device slack:\t\t                 0
    Used:\t\t\t            262144
    Free (estimated):\t\t         999292928\t(min: 526385152)
    Free (statfs, df):\t\t         998244352
    Data ratio:\t\t\t              1.00
    Metadata ratio:\t\t              2.00
    Global reserve:\t\t           3670016\t(used: 0)
    Multiple profiles:\t\t                no

Data,single: Size:8388608, Used:0 (0.00%)
   /dev/loop0\t   8388608
`;

export async function storageContext(
  machine: FakeMachine,
  agentEnv: string,
  systemdRunning = false,
): Promise<ConcernContext> {
  const config = loadConfig({ file: '/etc/ecs-host-agent/agent.env', fileText: agentEnv, env: {}, flags: {} });
  const os = { ...(await gatherOsFacts(machine.host)), systemdRunning };
  return { host: machine.host, config, os, logger: silentLogger, resetAgentState: false };
}

export const storage = createStorageConcern({ live: () => true });

export async function planOf(context: ConcernContext): Promise<StorageAction[]> {
  return storage.plan(await storage.gather(context), context);
}

/** Plans and applies every step, as the runner does. */
export async function converge(context: ConcernContext): Promise<StorageAction[]> {
  const actions = await planOf(context);
  for (const action of actions) await storage.apply(action, context);
  return actions;
}

export const FILE_MODE = 'STORAGE_MODE=btrfs-file\nSTORAGE_SIZE=1G\n';
export const DEVICE_MODE = 'STORAGE_MODE=btrfs-device\nSTORAGE_DEVICE=/dev/nvme1n1\n';

import { type Command, runCommand } from '../../core/command.ts';
import { CommandError } from '../../core/errors.ts';
import type { Host } from '../../host/host.ts';
import type { Backing } from './facts.ts';
import { localCommand, probeLocal } from '../../block/run.ts';

/** Mounting and unmounting the store, on this machine, with real paths. */

const BUSY_RETRIES = 10;
const BUSY_DELAY_MS = 200;

export function mountCommand(backing: Pick<Backing, 'kind' | 'source'>, target: string): Command {
  const loop = backing.kind === 'file' ? ['-o', 'loop'] : [];
  return localCommand('mount', ['-t', 'btrfs', ...loop, '--', backing.source, target]);
}

export async function mountBacking(
  host: Host,
  backing: Pick<Backing, 'kind' | 'source'>,
  target: string,
): Promise<void> {
  await runCommand(host, mountCommand(backing, target));
}

export function unmountCommand(target: string): Command {
  return localCommand('umount', ['--', target]);
}

/** umount, retried briefly while the kernel says "target is busy" (a short-lived reader). */
export async function unmount(host: Host, target: string): Promise<void> {
  const { file, args } = unmountCommand(target);
  for (let attempt = 0; ; attempt++) {
    const result = await probeLocal(host, file, args);
    if (result.exitCode === 0) return;
    if (!/target is busy/.test(result.stderr) || attempt >= BUSY_RETRIES) {
      throw new CommandError([file, ...args], result.exitCode, result.stderr);
    }
    await host.sleep(BUSY_DELAY_MS);
  }
}

import { posix } from 'node:path';

import type { Command } from '../core/command.ts';
import { type ExecOptions, type ExecResult, execChecked, type Host } from '../host/host.ts';

const TIMEOUT_MS = 5 * 60_000;

/** A command that runs on this machine (block devices, mounts), as a step carries it. */
export function localCommand(file: string, args: readonly string[], timeoutMs = TIMEOUT_MS): Command {
  return { file, args, target: 'local', timeoutMs };
}

/** Runs a command on this machine (block devices, mounts) and fails with its stderr unless it exits 0. */
export function runLocal(
  host: Host,
  file: string,
  args: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  return execChecked(host, file, args, { timeoutMs: TIMEOUT_MS, ...options, target: options.target ?? 'local' });
}

/** The same, for the tools whose non-zero exit is an answer ("nothing found"), not a failure. */
export function probeLocal(host: Host, file: string, args: readonly string[]): Promise<ExecResult> {
  return host.exec(file, args, { timeoutMs: TIMEOUT_MS, target: 'local' });
}

/**
 * A managed path as a path of this machine, for tools that run here (mkfs,
 * mount, losetup, cp) and cannot be retargeted at a root.
 */
export function onDisk(host: Host, path: string): string {
  return host.root === '/' ? path : posix.join(host.root, path);
}

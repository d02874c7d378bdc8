import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

import { requireRoot } from './scratch.ts';

/**
 * Loop devices and mounts for integration tests. Loop devices are shared with
 * everything else on the machine: always `losetup -f --show`, never a fixed
 * number. Whatever a test attaches or mounts is released when it ends, pass or
 * fail, in the reverse order it was set up.
 */

const BUSY_RETRIES = 25;
const BUSY_DELAY_MS = 200;

type Release = () => void | Promise<void>;
const releases = new WeakMap<TestContext, Release[]>();

/**
 * Runs release when the test ends, pass or fail, before everything registered
 * earlier through here (last in, first out: a daemon stops before its store is
 * unmounted, a mount goes before its loop device), and whether or not another
 * release failed. node:test runs t.after hooks first in, first out.
 */
export function releaseAtEnd(t: TestContext, release: Release): void {
  const existing = releases.get(t);
  if (existing) {
    existing.push(release);
    return;
  }
  const stack = [release];
  releases.set(t, stack);
  t.after(async () => {
    const failures: unknown[] = [];
    for (const step of stack.reverse()) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'releasing what the test attached failed');
  });
}

/** A scratch directory whose release unmounts and detaches everything below it, then removes it. */
export function mountableScratch(t: TestContext, prefix = 'eha-mnt-'): string {
  requireRoot();
  const dir = mkdtempSync(join(tmpdir(), prefix));
  releaseAtEnd(t, () => {
    releaseBelow(dir);
    rmSync(dir, { recursive: true, force: true }); // not reached if something could not be released
  });
  return dir;
}

/** Attaches a loop device to file and detaches it when the test ends (unless released already). */
export function attachLoop(t: TestContext, file: string): string {
  requireRoot();
  const device = execFileSync('losetup', ['--find', '--show', '--', file], { encoding: 'utf8' }).trim();
  releaseAtEnd(t, () => {
    // The number may serve someone else by now: detach only while it still holds our file.
    if (attachedLoops().some((loop) => loop.name === device && loop.backFile === file)) detach(device);
  });
  return device;
}

/** Unmounts everything mounted at or below dir (deepest first) and detaches loop devices backed by files below it. */
export function releaseBelow(dir: string): void {
  for (const target of mountsBelow(dir)) unmount(target);
  for (const loop of attachedLoops()) if (loop.backFile?.startsWith(`${dir}/`)) detach(loop.name);
}

export function unmount(target: string): void {
  for (let attempt = 0; ; attempt++) {
    const result = spawnSync('umount', ['--', target], { encoding: 'utf8' });
    if (result.status === 0) return;
    if (!/target is busy/.test(result.stderr) || attempt >= BUSY_RETRIES)
      throw new Error(`umount ${target}: ${result.stderr.trim()}`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, BUSY_DELAY_MS);
  }
}

function detach(device: string): void {
  const result = spawnSync('losetup', ['--detach', device], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`losetup --detach ${device}: ${result.stderr.trim()}`);
}

/** Mount points at or below dir, deepest first, from /proc/self/mountinfo (field 5, octal-escaped). */
export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((field): field is string => field !== undefined)
    .map((field) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8))))
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

interface Loop {
  readonly name: string;
  readonly backFile: string | null;
}

export function attachedLoops(): Loop[] {
  const text = execFileSync('losetup', ['--json', '--list', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8' });
  const listing = (text.trim() ? JSON.parse(text) : {}) as {
    loopdevices?: { name: string; 'back-file': string | null }[];
  };
  return (listing.loopdevices ?? []).map((loop) => ({ name: loop.name, backFile: loop['back-file'] }));
}

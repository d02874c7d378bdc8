import { lstat, readdir, readFile, unlink } from 'node:fs/promises';
import { posix } from 'node:path';

import { nullIfMissing } from './missing.ts';

/**
 * Temporary files of atomic writes are named ".NAME.PID-START.RANDOM.tmp" beside
 * the file NAME they replace: PID and START (field 22 of /proc/PID/stat, clock
 * ticks after boot) name the writer. A crash leaves such a file behind, holding
 * what was being written (registry credentials, SSH keys). Before a file is
 * written, leftovers of its earlier writes are removed, but only those whose
 * writer is gone: no process with that PID, a zombie, or a process that started
 * at another time (the PID was reused). A live writer's file is never touched.
 * Names of earlier versions (".NAME.PID.RANDOM.tmp") count as gone when no
 * process has the PID. Each file is swept once per process: new leftovers can
 * only come from a crash, which the next process's sweep finds.
 */
const TEMP = /^\.(.+)\.(\d+)(?:-(\d+))?\.[0-9a-f]{8}\.tmp$/;

export async function tempNameFor(name: string): Promise<string> {
  return `.${name}.${process.pid}-${await ownStartTime()}.${randomHex(4)}.tmp`;
}

let startTime: Promise<string> | null = null;

function ownStartTime(): Promise<string> {
  startTime ??= readFile('/proc/self/stat', 'utf8').then((stat) => parseStat(stat)?.startTime ?? '0');
  return startTime;
}

/** State and start time from /proc/PID/stat; the command name (field 2) may hold spaces and parentheses. */
function parseStat(stat: string): { state: string; startTime: string } | null {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields.length > 19 ? { state: fields[0] as string, startTime: fields[19] as string } : null;
}

const swept = new Set<string>();

/**
 * Removes the leftover temporary files of `name` in `directory` whose writers
 * are gone. `key` identifies the directory across calls (its path as shown,
 * when `directory` is a /proc/self/fd path). Only regular files are removed,
 * and unlink never follows a symlink.
 */
export async function removeStaleTemps(directory: string, name: string, key = directory): Promise<void> {
  const id = `${key}\0${name}`;
  if (swept.has(id)) return;
  swept.add(id);
  for (const entry of await readdir(directory)) {
    const match = TEMP.exec(entry);
    if (match?.[1] !== name || (await writerAlive(Number(match[2]), match[3]))) continue;
    const path = posix.join(directory, entry);
    const info = await lstat(path).catch(() => null);
    if (info?.isFile()) await nullIfMissing(unlink(path));
  }
}

async function writerAlive(pid: number, startedAt: string | undefined): Promise<boolean> {
  const stat = await nullIfMissing(readFile(`/proc/${pid}/stat`, 'utf8'));
  if (stat === null) return false;
  const parsed = parseStat(stat);
  if (parsed === null || parsed.state === 'Z') return false;
  return startedAt === undefined || parsed.startTime === startedAt;
}

/** node:crypto loads at the first write, not with the Host: read-only commands (detect) never need it. */
function randomHex(bytes: number): string {
  return process.getBuiltinModule('node:crypto').randomBytes(bytes).toString('hex');
}

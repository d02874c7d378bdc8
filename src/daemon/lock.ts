import { AgentError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';

/**
 * One daemon per host: a pid file created exclusively under /run (tmpfs, so a
 * reboot clears it). It records the pid and that process's start time, so a
 * file left by a dead agent is taken over even when its pid was reused.
 */
export const LOCK_DIR = '/run/ecs-host-agent';
export const LOCK_FILE = `${LOCK_DIR}/agent.pid`;

export class AlreadyRunning extends AgentError {}

export interface Lock {
  release(): Promise<void>;
}

export async function acquireLock(host: Host, pid: number): Promise<Lock> {
  await host.mkdir(LOCK_DIR, { mode: 0o755 });
  const content = `${pid} ${await startTime(host, pid)}\n`;
  if (!(await host.createExclusive(LOCK_FILE, content))) {
    const holder = await runningHolder(host);
    if (holder !== null && holder !== pid)
      throw new AlreadyRunning(`ecs-host-agent is already running as pid ${holder} (${LOCK_FILE})`);
    await host.writeFileAtomic(LOCK_FILE, content);
  }
  return {
    async release() {
      if ((await host.readText(LOCK_FILE).catch(() => '')) === content) await host.rm(LOCK_FILE);
    },
  };
}

/** The pid holding the lock, when that very process (same start time) still runs; otherwise null. */
export async function runningHolder(host: Host): Promise<number | null> {
  const [pid = '', started = ''] = (await host.readText(LOCK_FILE).catch(() => '')).trim().split(' ');
  const holder = Number(pid);
  return Number.isInteger(holder) && holder > 0 && started !== '' && (await startTime(host, holder)) === started
    ? holder
    : null;
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces), or '' when gone. */
async function startTime(host: Host, pid: number): Promise<string> {
  const stat = await host.readText(`/proc/${pid}/stat`).catch(() => null);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

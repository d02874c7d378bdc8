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
    const [holder = NaN, started = ''] = (await host.readText(LOCK_FILE)).trim().split(' ').map((part, i) => (i === 0 ? Number(part) : part)) as [number, string];
    if (Number.isInteger(holder) && holder !== pid && started !== '' && (await startTime(host, holder)) === started) {
      throw new AlreadyRunning(`ecs-host-agent is already running as pid ${holder} (${LOCK_FILE})`);
    }
    await host.writeFileAtomic(LOCK_FILE, content);
  }
  return {
    async release() {
      if ((await host.readText(LOCK_FILE).catch(() => '')) === content) await host.rm(LOCK_FILE);
    },
  };
}

/** Field 22 of /proc/PID/stat (after the parenthesised command name, which may hold spaces), or '' when gone. */
export async function startTime(host: Host, pid: number): Promise<string> {
  const stat = await host.readText(`/proc/${pid}/stat`).catch(() => null);
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

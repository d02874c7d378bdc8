import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import type { ReloadRecord } from './reload.ts';
import type { TaskRecord } from './scheduler.ts';

/** What the daemon does and last did, for `ecs-host-agent status`; rewritten atomically as that changes. */
export const STATUS_FILE = `${PATHS.agentState}/status.json`;

/** A task run in progress. */
export interface RunningTask {
  readonly startedAt: string;
  /** The last thing it logged ("docker: install Docker", a retry of a command), or null before it logged any. */
  readonly step: string | null;
}

export interface DaemonStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly state: 'running' | 'stopping' | 'stopped';
  /** Each task's last finished run. */
  readonly tasks: Readonly<Record<string, TaskRecord>>;
  /** Runs in progress, by task (absent in files from before it was recorded). */
  readonly current?: Readonly<Record<string, RunningTask>>;
  /** The last reload (SIGHUP) of this daemon, if any. */
  readonly reload?: ReloadRecord;
}

export async function writeStatus(host: Host, status: DaemonStatus): Promise<void> {
  await host.mkdir(PATHS.agentState, { mode: 0o755 });
  await host.writeFileAtomic(STATUS_FILE, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o644 });
}

/** The last status, or null when the daemon never ran; a damaged file is an error naming it. */
export async function readStatus(host: Host): Promise<DaemonStatus | null> {
  if ((await host.stat(STATUS_FILE)) === null) return null;
  const text = await host.readText(STATUS_FILE);
  try {
    const status = JSON.parse(text) as DaemonStatus;
    if (typeof status.pid !== 'number' || typeof status.tasks !== 'object' || status.tasks === null)
      throw new Error('missing fields');
    return status;
  } catch (error) {
    throw new Error(
      `${STATUS_FILE} is damaged (${(error as Error).message}); it is rewritten when the daemon next runs a task`,
    );
  }
}

import { PATHS } from '../core/paths.ts';
import type { Host } from '../host/host.ts';
import type { TaskRecord } from './scheduler.ts';

/** What the daemon last did, for `ecs-host-agent status`; rewritten atomically after every task. */
export const STATUS_FILE = `${PATHS.agentState}/status.json`;

export interface DaemonStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly state: 'running' | 'stopped';
  readonly tasks: Readonly<Record<string, TaskRecord>>;
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
    if (typeof status.pid !== 'number' || typeof status.tasks !== 'object' || status.tasks === null) throw new Error('missing fields');
    return status;
  } catch (error) {
    throw new Error(`${STATUS_FILE} is damaged (${(error as Error).message}); it is rewritten when the daemon next runs a task`);
  }
}

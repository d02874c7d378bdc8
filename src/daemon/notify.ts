import type { Host } from '../host/host.ts';
import type { Logger } from '../core/logger.ts';

/**
 * sd_notify without native modules: the systemd-notify tool, with --pid naming
 * the daemon so systemd attributes the message to the main process even though
 * a short-lived child sends it (the unit has NotifyAccess=all). Outside systemd
 * (no NOTIFY_SOCKET) every call is a no-op.
 */
export interface Notifier {
  ready(): Promise<void>;
  status(text: string): Promise<void>;
  stopping(): Promise<void>;
  /** How often to send WATCHDOG=1 (half of WATCHDOG_USEC), or null when no watchdog is set. */
  readonly watchdogIntervalMs: number | null;
  watchdog(): Promise<void>;
}

export function createNotifier(
  host: Host,
  env: Readonly<Record<string, string | undefined>>,
  pid: number,
  logger: Logger,
): Notifier {
  const socket = env.NOTIFY_SOCKET;
  const send = async (...args: string[]): Promise<void> => {
    if (!socket) return;
    const result = await host.exec('systemd-notify', [`--pid=${pid}`, ...args], {
      target: 'local',
      timeoutMs: 10_000,
      env: { NOTIFY_SOCKET: socket },
    });
    if (result.exitCode !== 0) logger.warn(`systemd-notify ${args.join(' ')} failed: ${result.stderr.trim()}`);
  };
  const watchdogUsec = Number(env.WATCHDOG_USEC);
  const watchdogPid = env.WATCHDOG_PID === undefined ? pid : Number(env.WATCHDOG_PID);
  return {
    ready: () => send('--ready'),
    status: (text) => send(`--status=${text}`),
    stopping: () => send('STOPPING=1'),
    watchdogIntervalMs: socket && watchdogUsec > 0 && watchdogPid === pid ? Math.floor(watchdogUsec / 2000) : null,
    watchdog: () => send('WATCHDOG=1'),
  };
}

import type { Host } from '../host/host.ts';

/**
 * What the system is shutting down for, from systemd's job queue while the
 * decommission unit stops: a reboot (security updates) must not remove the
 * host from its cluster; a poweroff or halt (scale-in, stop) must.
 */
export type ShutdownKind = 'poweroff' | 'reboot' | 'none';

export async function shutdownKind(host: Host): Promise<ShutdownKind> {
  const jobs = await host.exec('systemctl', ['list-jobs', '--no-legend', '--plain'], { timeoutMs: 10_000 });
  const units = jobs.stdout.split('\n').map((line) => line.trim().split(/\s+/)[1]);
  if (units.some((unit) => unit === 'reboot.target' || unit === 'kexec.target')) return 'reboot';
  if (units.some((unit) => unit === 'poweroff.target' || unit === 'halt.target')) return 'poweroff';
  return 'none';
}

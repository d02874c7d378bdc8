import { CommandError } from '../core/errors.ts';
import { execChecked, type Host } from '../host/host.ts';
import type { OsFacts } from '../os/facts.ts';

/**
 * Enabling and starting units, the same for every concern. With systemd as
 * PID 1 a unit is enabled and started with --no-block: a blocking start from
 * user-data deadlocks on After=cloud-final.service (aws/amazon-ecs-agent#1707).
 * In an image root, or on a machine without systemd as PID 1, it is only
 * enabled: nothing is ever started inside an image being built.
 */
export interface UnitState {
  readonly enabled: boolean;
  /** null when systemd is not running (image root, container). */
  readonly active: boolean | null;
}

export async function unitState(host: Host, unit: string, os: OsFacts): Promise<UnitState> {
  const enabled = await host.exec('systemctl', ['is-enabled', '--', unit], { timeoutMs: 30_000 });
  if (!os.systemdRunning) return { enabled: enabled.exitCode === 0, active: null };
  const active = await host.exec('systemctl', ['is-active', '--quiet', '--', unit], { timeoutMs: 30_000 });
  return { enabled: enabled.exitCode === 0, active: active.exitCode === 0 };
}

export function needsStart(state: UnitState): boolean {
  return !state.enabled || state.active === false;
}

export function startCommand(unit: string, os: OsFacts): readonly string[] {
  return os.systemdRunning ? ['enable', '--now', '--no-block', '--', unit] : ['enable', '--', unit];
}

export function describeStart(unit: string, os: OsFacts): string {
  const how = os.systemdRunning ? 'enable and start (without blocking)' : os.root === '/' ? 'enable (systemd is not PID 1: not started)' : 'enable in the image (not started)';
  return `${how} ${unit}`;
}

export async function startUnit(host: Host, unit: string, os: OsFacts): Promise<void> {
  await execChecked(host, 'systemctl', startCommand(unit, os), { timeoutMs: 120_000 });
}

export async function stopUnit(host: Host, unit: string, os: OsFacts): Promise<void> {
  if (!os.systemdRunning) return;
  const result = await host.exec('systemctl', ['stop', '--', unit], { timeoutMs: 180_000 });
  if (result.exitCode !== 0 && !/not loaded/.test(result.stderr)) throw new CommandError(['systemctl', 'stop', '--', unit], result.exitCode, result.stderr);
}

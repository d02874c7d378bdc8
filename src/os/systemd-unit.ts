import { type Command, runCommand } from '../core/command.ts';
import type { Step } from '../core/step.ts';
import type { Host } from '../host/host.ts';
import type { OsFacts } from './facts.ts';

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

function describeStart(unit: string, os: OsFacts): string {
  const how = os.systemdRunning
    ? 'enable and start (without blocking)'
    : os.root === '/'
      ? 'enable (systemd is not PID 1: not started)'
      : 'enable in the image (not started)';
  return `${how} ${unit}`;
}

/** The action that enables the unit, and with systemd as PID 1 starts it, without blocking. */
export function startUnit(unit: string, os: OsFacts): { readonly summary: string; readonly steps: readonly Step[] } {
  const args = os.systemdRunning ? ['enable', '--now', '--no-block', '--', unit] : ['enable', '--', unit];
  return { summary: describeStart(unit, os), steps: [{ run: { file: 'systemctl', args, timeoutMs: 120_000 } }] };
}

/** Stops a unit; one that is not loaded (never installed) is stopped already. */
export function stopUnitCommand(unit: string): Command {
  return { file: 'systemctl', args: ['stop', '--', unit], timeoutMs: 180_000, alreadyDone: 'not loaded' };
}

export async function stopUnit(host: Host, unit: string, os: OsFacts): Promise<void> {
  if (os.systemdRunning) await runCommand(host, stopUnitCommand(unit));
}

import { type Command, runCommand } from '../../core/command.ts';
import { AgentError } from '../../core/errors.ts';
import type { Host } from '../../host/host.ts';
import { localCommand, probeLocal } from '../../block/run.ts';

/**
 * Docker is stopped around the switch of its store, and started again only if
 * it was running. docker.socket is stopped too, or the next client (the ECS
 * agent) would start Docker again halfway through the copy.
 */
const UNITS = ['docker.socket', 'docker.service'];
const PID_FILES = ['/run/docker.pid', '/var/run/docker.pid'];

/** The Docker units that are active; none when systemd does not run this system. */
export async function activeDockerUnits(host: Host, systemdRunning: boolean): Promise<string[]> {
  if (!systemdRunning) return [];
  const active: string[] = [];
  for (const unit of UNITS) {
    if ((await probeLocal(host, 'systemctl', ['is-active', '--quiet', '--', unit])).exitCode === 0) active.push(unit);
  }
  return active;
}

/** A dockerd that systemd does not manage cannot be stopped safely by the agent: say so instead. */
export async function dockerRunsOutsideSystemd(host: Host, systemdRunning: boolean): Promise<string | null> {
  if (systemdRunning) return null;
  for (const path of PID_FILES) if ((await host.stat(path)) !== null) return path;
  return null;
}

/** `systemctl stop` or `start` of the units that were active; null when none was. */
export function dockerUnitsCommand(verb: 'stop' | 'start', units: readonly string[]): Command | null {
  return units.length === 0 ? null : localCommand('systemctl', [verb, '--', ...units]);
}

/** Stops the units that were active, runs step, and starts them again, whether step succeeded or not. */
export async function withDockerStopped<T>(
  host: Host,
  systemdRunning: boolean,
  units: readonly string[],
  step: () => Promise<T>,
): Promise<T> {
  const pidFile = await dockerRunsOutsideSystemd(host, systemdRunning);
  if (pidFile)
    throw new AgentError(`dockerd is running outside systemd (${pidFile}); stop it before the store is switched`);
  const [stop, start] = [dockerUnitsCommand('stop', units), dockerUnitsCommand('start', units)];
  if (stop) await runCommand(host, stop);
  try {
    return await step();
  } finally {
    if (start) await runCommand(host, start);
  }
}

/** The storage driver the running Docker reports, or null when no daemon answers. */
export async function reportedDriver(host: Host): Promise<string | null> {
  try {
    const result = await host.exec('docker', ['info', '--format', '{{.Driver}}'], {
      timeoutMs: 15_000,
      target: 'local',
    });
    return result.exitCode === 0 ? result.stdout.trim() || null : null;
  } catch {
    return null; // no docker client installed
  }
}

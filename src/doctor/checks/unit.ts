import { unitState } from '../../os/systemd-unit.ts';
import type { Host } from '../../host/host.ts';
import type { OsFacts } from '../../os/facts.ts';
import { type Finding, fail, ok, warn } from '../check.ts';

/** Installed, enabled and (with systemd running) active: the shared verdict of the docker and ecs-init checks. */
export async function unitFinding(host: Host, facts: OsFacts, what: string, unit: string): Promise<Finding> {
  const state = await unitState(host, unit, facts);
  if (!state.enabled)
    return fail(
      `${what} is installed but ${unit} is not enabled`,
      `run "systemctl enable --now --no-block ${unit}" (or ecs-host-agent apply)`,
    );
  if (state.active === null)
    return warn(
      `${unit} is enabled; whether it runs is unknown (systemd is not PID 1)`,
      'boot the host with systemd as its init system',
    );
  if (!state.active)
    return fail(
      `${unit} is enabled but not running`,
      `see "systemctl status ${unit}" and "journalctl -u ${unit}", then start it`,
    );
  return ok(`${what} installed, ${unit} enabled and running`);
}

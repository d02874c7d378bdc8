import { hostEcs } from '../aws/ecs.ts';
import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import type { OsFacts } from '../os/facts.ts';
import { type Registration, registrationOptions, verifyRegistration } from './registration.ts';

/**
 * Proof of registration where it can exist: on a running host with systemd.
 * An image root, or a machine whose ecs-init was not started, gets the reason
 * instead of a proof.
 */
export async function proveRegistration(host: Host, config: Config, os: OsFacts): Promise<Registration | string> {
  if (os.root !== '/') return 'not verified: an image root registers when an instance boots from it';
  if (!os.systemdRunning) return 'not verified: systemd is not PID 1, so ecs-init was not started';
  return verifyRegistration(host, await hostEcs(host, config), registrationOptions(config));
}

import { createEcsClient } from '../aws/clients.ts';
import { createImds, readRegion } from '../aws/imds.ts';
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
  const region = config.AWS_REGION ?? (await readRegion(createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT)));
  const ecs = createEcsClient({ region, ecsEndpoint: config.AWS_ENDPOINT_URL_ECS, ssmEndpoint: config.AWS_ENDPOINT_URL_SSM });
  return verifyRegistration(host, ecs, registrationOptions(config));
}

export function describeRegistration(registration: Registration | string): string {
  if (typeof registration === 'string') return registration;
  return `${registration.containerInstanceArn} in ${registration.cluster}, ${registration.status}, agent ${registration.agentVersion} connected`;
}

import type { Registration } from './registration.ts';

/** One line for the plan, the daemon's status and the log; no SDK needed to print it. */
export function describeRegistration(registration: Registration | string): string {
  if (typeof registration === 'string') return registration;
  return (
    `${registration.containerInstanceArn} in ${registration.cluster}, ${registration.status}, ` +
    `agent ${registration.agentVersion} connected`
  );
}

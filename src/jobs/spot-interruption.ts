import type { Ecs } from '../aws/ecs.ts';
import { createImds, type Imds, ImdsUnavailable } from '../aws/imds.ts';
import type { Config } from '../core/config/load.ts';
import { AgentError, messageOf } from '../core/errors.ts';
import type { Job } from '../daemon/job.ts';
import type { Host } from '../host/host.ts';

/**
 * Spot interruption: IMDS announces `spot/instance-action` two minutes
 * before the instance is stopped or terminated. The instance is set DRAINING
 * at once, so ECS starts the replacement tasks elsewhere right away. This
 * complements the ECS agent's own ECS_ENABLE_SPOT_INSTANCE_DRAINING, which
 * only acts when that is set in ecs.config.
 *
 * Only a 404 means "nothing announced". Any other answer (401, 5xx) or none at
 * all means the watch cannot see: the run fails, so status shows it and the
 * daemon logs it (once, then a reminder now and then, not every 5 s), and it is
 * tried again at the usual interval, never backed off: a watch that backs off
 * for an hour could miss the two minutes that matter.
 */
const INSTANCE_ACTION = '/latest/meta-data/spot/instance-action';
const INTERVAL_MS = 5000;
const NOT_ANNOUNCED = 404;

/**
 * ecsFor: ECS for this host (tests give a scripted one). The AWS SDK
 * and the drain code load only when an interruption is announced: the watch
 * itself asks IMDS every 5 s and should cost the resident daemon nothing more.
 */
export function createSpotInterruptionJob(ecsFor?: (host: Host, config: Config) => Promise<Ecs>): Job {
  let drained: string | null = null;
  // One IMDS session for the watch's life (its token renewed as it expires), not a new token every 5 s.
  let imds: { readonly endpoint: string; readonly client: Imds } | null = null;
  const imdsFor = (host: Host, endpoint: string): Imds => {
    if (imds?.endpoint !== endpoint) imds = { endpoint, client: createImds(host, endpoint) };
    return imds.client;
  };
  return {
    name: 'spot-interruption',
    intervalMs: (context) => (context.host.root === '/' && context.config.SPOT_INTERRUPTION_DRAIN ? INTERVAL_MS : null),
    retry: (intervalMs) => ({ firstMs: intervalMs, maxMs: intervalMs }),
    async run({ host, config }) {
      if (drained !== null) return { summary: `drained for the spot interruption (${drained})` };
      let notice: string;
      try {
        notice = await imdsFor(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT).get(INSTANCE_ACTION);
      } catch (error) {
        if (error instanceof ImdsUnavailable && error.status === NOT_ANNOUNCED)
          return { summary: 'no spot interruption announced' };
        throw new AgentError(`cannot tell whether a spot interruption is announced: ${messageOf(error)}`);
      }
      const action = describeNotice(notice);
      const { localInstance, setInstanceStatus } = await import('../ecs-agent/drain.ts');
      const instance = await localInstance(host, config.INTROSPECTION_URL);
      const ecs = await (ecsFor ?? (await import('../aws/ecs.ts')).hostEcs)(host, config);
      await setInstanceStatus(ecs, instance, 'DRAINING');
      drained = action;
      return {
        summary: `spot interruption announced (${action}): ${instance.containerInstanceArn} set DRAINING`,
        details: { action, instance },
      };
    },
  };
}

/** {"action": "terminate", "time": "2026-11-22T12:02:00Z"}, told in words; an odd notice still drains. */
function describeNotice(text: string): string {
  try {
    const { action, time } = JSON.parse(text) as Record<string, unknown>;
    return (
      `${typeof action === 'string' ? action : 'unknown action'} at ` +
      `${typeof time === 'string' ? time : 'an unknown time'}`
    );
  } catch (error) {
    return `unreadable notice: ${messageOf(error)}`;
  }
}

/** The daemon's watch. */
export const spotInterruptionJob: Job = createSpotInterruptionJob();

import { awsSettings, hostRegion } from '../../../aws/region.ts';
import { createEcs } from '../../../aws/ecs.ts';
import { createFleetLock, type FleetLock, LOCK_CLIENT_TUNING, lockTiming } from '../../../aws/fleet-lock.ts';
import { createImds, readInstanceId } from '../../../aws/imds.ts';
import { createSsm } from '../../../aws/ssm.ts';
import { createEventReporter, DAEMON_RETRIES } from '../../../control/events.ts';
import type { ConcernContext } from '../../../core/concern.ts';
import type { Config } from '../../../core/config/load.ts';
import { UsageError } from '../../../core/errors.ts';
import type { Logger } from '../../../core/logger.ts';
import { localInstance } from '../../../ecs-agent/drain.ts';
import { execChecked, type Host } from '../../../host/host.ts';
import type { UpdateSettings } from '../settings.ts';
import { reportSequenceTo } from './report.ts';
import type { SequenceDeps } from './sequence.ts';

/**
 * The reboot sequence wired to this host: AWS clients for its region, its identity, a real reboot, outcomes to the
 * control endpoint.
 */
export async function hostSequenceDeps(context: ConcernContext, settings: UpdateSettings): Promise<SequenceDeps> {
  const { host, config, logger } = context;
  if (host.root !== '/')
    throw new UsageError('an image root (--root) is never rebooted: reboots belong to running hosts');
  const imds = createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT);
  const region = await hostRegion(host, config);
  return {
    host,
    logger,
    ecs: createEcs(host, awsSettings(config, region)),
    lock: hostFleetLock(host, config, region, logger),
    settings,
    identity: async () => ({
      ...(await localInstance(host, settings.introspectionUrl)),
      instanceId: await readInstanceId(imds),
    }),
    reboot: () => systemReboot(host),
    // One attempt: the daemon's events job sends what the endpoint did not take.
    report: reportSequenceTo(await createEventReporter(host, config, logger, DAEMON_RETRIES)),
  };
}

/** The fleet's reboot slots as this host sees them: the daemon's sequence and `reboot-slot` use the same lock. */
export function hostFleetLock(host: Host, config: Config, region: string, logger: Logger): FleetLock {
  const ssm = createSsm(host, awsSettings(config, region), LOCK_CLIENT_TUNING);
  const options = {
    path: config.REBOOT_LOCK_PATH,
    cluster: config.ECS_CLUSTER,
    slots: config.MAX_CONCURRENT_REBOOTS,
    ttlMs: config.REBOOT_LOCK_TTL,
  };
  return createFleetLock(ssm, options, lockTiming(host), logger);
}

async function systemReboot(host: Host): Promise<void> {
  await execChecked(host, 'systemctl', ['reboot'], { timeoutMs: 60_000 });
}

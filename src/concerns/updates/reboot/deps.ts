import { awsSettings, createEcsClient, createSsmClient, hostRegion } from '../../../aws/clients.ts';
import { createFleetLock } from '../../../aws/fleet-lock.ts';
import { createImds, type Imds, ImdsUnavailable } from '../../../aws/imds.ts';
import { createEventReporter, DAEMON_RETRIES } from '../../../control/events.ts';
import type { ConcernContext } from '../../../core/concern.ts';
import { UsageError } from '../../../core/errors.ts';
import { localInstance } from '../../../ecs-agent/drain.ts';
import { execChecked, type Host } from '../../../host/host.ts';
import type { UpdateSettings } from '../settings.ts';
import { reportSequenceTo } from './report.ts';
import type { SequenceDeps } from './sequence.ts';

/** The reboot sequence wired to this host: AWS clients for its region, its identity, a real reboot, outcomes to the control endpoint. */
export async function hostSequenceDeps(context: ConcernContext, settings: UpdateSettings): Promise<SequenceDeps> {
  const { host, config, logger } = context;
  if (host.root !== '/') throw new UsageError('an image root (--root) is never rebooted: reboots belong to running hosts');
  const imds = createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT);
  const region = await hostRegion(host, config);
  const ssm = createSsmClient(awsSettings(config, region));
  return {
    host,
    logger,
    ecs: createEcsClient(awsSettings(config, region)),
    lock: createFleetLock(ssm, { path: settings.lockPath, cluster: settings.cluster, slots: settings.maxConcurrentReboots, ttlMs: settings.lockTtlMs }, logger),
    settings,
    identity: async () => ({ ...(await localInstance(host, settings.introspectionUrl)), instanceId: await readInstanceId(imds) }),
    reboot: () => systemReboot(host),
    // One attempt: the daemon's events job sends what the endpoint did not take.
    report: reportSequenceTo(await createEventReporter(host, config, logger, DAEMON_RETRIES)),
  };
}

async function readInstanceId(imds: Imds): Promise<string> {
  const instanceId = (await imds.get('/latest/meta-data/instance-id')).trim();
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) throw new ImdsUnavailable(`IMDS returned an invalid instance-id ${JSON.stringify(instanceId.slice(0, 40))}`);
  return instanceId;
}

async function systemReboot(host: Host): Promise<void> {
  await execChecked(host, 'systemctl', ['reboot'], { timeoutMs: 60_000 });
}

import { hostRegion } from '../../aws/region.ts';
import type { Config } from '../../core/config/load.ts';
import type { Logger } from '../../core/logger.ts';
import type { Host } from '../../host/host.ts';
import { InstanceIdentity } from './instance.ts';
import type { SampleSink } from './sink.ts';

/**
 * The sinks that are on, in a fixed order: the control endpoint (made by the caller, which reports the host's
 * status with it), CloudWatch (METRICS_CLOUDWATCH), remote write (METRICS_REMOTE_WRITE_URL). The last two are
 * imported only when they are on: the CloudWatch client, protobuf and snappy stay out of a daemon that does not
 * use them. Credential files are read here, so that a bad one stops the command at once (exit 78); nothing here
 * needs the network (the region and the instance id are asked for on the first delivery).
 */
export async function openSinks(
  host: Host,
  config: Config,
  logger: Logger,
  control: SampleSink | null,
): Promise<SampleSink[]> {
  const sinks: SampleSink[] = control === null ? [] : [control];
  if (!config.METRICS_CLOUDWATCH && config.METRICS_REMOTE_WRITE_URL === null) return sinks;
  const instance = new InstanceIdentity(
    host,
    {
      imdsEndpoint: config.AWS_EC2_METADATA_SERVICE_ENDPOINT,
      cluster: config.ECS_CLUSTER,
      autoScalingGroup: config.METRICS_CLOUDWATCH && config.METRICS_CLOUDWATCH_ASG_DIMENSION,
    },
    logger,
  );
  if (config.METRICS_CLOUDWATCH) {
    const { CloudWatchSink, cloudWatchClientFor, cloudWatchSettings } = await import('./cloudwatch/sink.ts');
    const settings = cloudWatchSettings(config);
    if (settings !== null) sinks.push(new CloudWatchSink(host, settings, instance, cloudWatchClientFor(host, config)));
  }
  if (config.METRICS_REMOTE_WRITE_URL !== null) {
    const { RemoteWriteSink, remoteWriteSettings } = await import('./remote-write/sink.ts');
    const settings = remoteWriteSettings(config, () => hostRegion(host, config));
    if (settings !== null) {
      const sink = new RemoteWriteSink(host, settings, instance);
      await sink.checkCredentials();
      sinks.push(sink);
    }
  }
  return sinks;
}

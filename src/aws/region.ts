import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import { createImds, readRegion } from './imds.ts';

/**
 * Where AWS calls go: the region and the endpoint overrides of config, without
 * the SDK, so a module the daemon loads at start (the metrics sinks, the
 * reboot-slot command) can ask for the region without loading an SDK client.
 */

/** SDK clients with the endpoint overrides from config (VPC endpoints, moto_server in tests). */
export interface AwsSettings {
  readonly region: string;
  readonly ecsEndpoint: string | null;
  readonly ssmEndpoint: string | null;
  /** Only the metrics sink's CloudWatch client (src/control/sinks/cloudwatch/) uses it. */
  readonly cloudWatchEndpoint?: string | null;
}

/** The endpoint overrides of config, for a region. */
export function awsSettings(config: Config, region: string): AwsSettings {
  return {
    region,
    ecsEndpoint: config.AWS_ENDPOINT_URL_ECS,
    ssmEndpoint: config.AWS_ENDPOINT_URL_SSM,
    cloudWatchEndpoint: config.AWS_ENDPOINT_URL_CLOUDWATCH,
  };
}

/** This host's region: AWS_REGION, else the instance's own from IMDSv2. */
export async function hostRegion(host: Host, config: Config): Promise<string> {
  return config.AWS_REGION ?? readRegion(createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT));
}

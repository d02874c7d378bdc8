import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';

import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import { createImds, readRegion } from './imds.ts';

/** SDK clients with the endpoint overrides from config (VPC endpoints, moto_server in tests). */
export interface AwsSettings {
  readonly region: string;
  readonly ecsEndpoint: string | null;
  readonly ssmEndpoint: string | null;
  readonly cloudWatchEndpoint?: string | null;
}

const RETRIES = 3;

export function createEcsClient(settings: AwsSettings): ECSClient {
  return new ECSClient({ region: settings.region, maxAttempts: RETRIES, ...(settings.ecsEndpoint ? { endpoint: settings.ecsEndpoint } : {}) });
}

export function createSsmClient(settings: AwsSettings): SSMClient {
  return new SSMClient({ region: settings.region, maxAttempts: RETRIES, ...(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {}) });
}

/**
 * CloudWatch for the metrics sink, loaded only when it is on (the client is several MB of the daemon's memory).
 * One attempt per call, with timeouts: the sink's delivery backs off into the spool itself, and a call must never
 * hang it. Request compression off: a sample's call is a few KB, below the SDK's 10 KB threshold anyway, and gzip
 * on a replay after an outage costs CPU to save bandwidth the host does not lack.
 */
export async function createCloudWatchClient(settings: AwsSettings): Promise<CloudWatchClient> {
  const { CloudWatchClient } = await import('@aws-sdk/client-cloudwatch');
  return new CloudWatchClient({
    region: settings.region,
    maxAttempts: 1,
    disableRequestCompression: true,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
    ...(settings.cloudWatchEndpoint ? { endpoint: settings.cloudWatchEndpoint } : {}),
  });
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

export async function hostEcsClient(host: Host, config: Config): Promise<ECSClient> {
  return createEcsClient(awsSettings(config, await hostRegion(host, config)));
}

export async function hostSsmClient(host: Host, config: Config): Promise<SSMClient> {
  return createSsmClient(awsSettings(config, await hostRegion(host, config)));
}

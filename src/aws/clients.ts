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
  /** Only the metrics sink's CloudWatch client (src/control/sinks/cloudwatch/client.ts) uses it. */
  readonly cloudWatchEndpoint?: string | null;
}

const RETRIES = 3;

export function createEcsClient(settings: AwsSettings): ECSClient {
  return new ECSClient({ region: settings.region, maxAttempts: RETRIES, ...(settings.ecsEndpoint ? { endpoint: settings.ecsEndpoint } : {}) });
}

/** For a caller that retries by itself (the fleet lock): its own attempts, and a bound on each request. */
export interface ClientTuning {
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
}

export function createSsmClient(settings: AwsSettings, tuning?: ClientTuning): SSMClient {
  return new SSMClient({
    region: settings.region,
    maxAttempts: tuning?.maxAttempts ?? RETRIES,
    ...(tuning ? { requestHandler: handlerTimeouts(tuning.requestTimeoutMs) } : {}),
    ...(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {}),
  });
}

function handlerTimeouts(timeoutMs: number) {
  return { requestTimeout: timeoutMs, connectionTimeout: timeoutMs };
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

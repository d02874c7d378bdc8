import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';

import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import { type AwsSettings, awsSettings, hostRegion } from './region.ts';

export { type AwsSettings, awsSettings, hostRegion } from './region.ts';

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

export async function hostEcsClient(host: Host, config: Config): Promise<ECSClient> {
  return createEcsClient(awsSettings(config, await hostRegion(host, config)));
}

export async function hostSsmClient(host: Host, config: Config): Promise<SSMClient> {
  return createSsmClient(awsSettings(config, await hostRegion(host, config)));
}

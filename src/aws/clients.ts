import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';

/** SDK clients with the endpoint overrides from config (VPC endpoints, moto_server in tests). */
export interface AwsSettings {
  readonly region: string;
  readonly ecsEndpoint: string | null;
  readonly ssmEndpoint: string | null;
}

const RETRIES = 3;

export function createEcsClient(settings: AwsSettings): ECSClient {
  return new ECSClient({ region: settings.region, maxAttempts: RETRIES, ...(settings.ecsEndpoint ? { endpoint: settings.ecsEndpoint } : {}) });
}

export function createSsmClient(settings: AwsSettings): SSMClient {
  return new SSMClient({ region: settings.region, maxAttempts: RETRIES, ...(settings.ssmEndpoint ? { endpoint: settings.ssmEndpoint } : {}) });
}

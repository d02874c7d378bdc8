import type { Config } from '../core/config/load.ts';

/**
 * The AWS endpoints an ECS host needs: the ECS API, S3 (ecs-init downloads
 * the agent image from the regional bucket) and ECR (task images). Each can be
 * overridden in config (VPC endpoints, tests).
 */
export type Service = 'ecs' | 's3' | 'ecr';

export interface Endpoint {
  readonly service: Service;
  readonly url: URL;
  /** The config key that overrides it, named in the fix. */
  readonly key: 'AWS_ENDPOINT_URL_ECS' | 'AWS_ENDPOINT_URL_S3' | 'AWS_ENDPOINT_URL_ECR';
}

const HOST_PREFIX: Readonly<Record<Service, string>> = { ecs: 'ecs', s3: 's3', ecr: 'api.ecr' };
const KEYS = { ecs: 'AWS_ENDPOINT_URL_ECS', s3: 'AWS_ENDPOINT_URL_S3', ecr: 'AWS_ENDPOINT_URL_ECR' } as const;

export function endpointOf(service: Service, region: string, config: Config): Endpoint {
  const key = KEYS[service];
  const override = config[key];
  const domain = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { service, key, url: new URL(override ?? `https://${HOST_PREFIX[service]}.${region}.${domain}`) };
}

export function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'http:' ? 80 : 443;
}

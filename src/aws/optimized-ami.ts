import type { Config } from '../core/config/load.ts';
import type { Host } from '../host/host.ts';
import { awsSettings } from './region.ts';
import { createSsm } from './ssm.ts';

/**
 * The authoritative ECS-optimized check: is this instance's AMI among the
 * public SSM parameters Amazon publishes for its ECS-optimized AMIs? Only
 * Amazon Linux has ECS-optimized variants, so only its subtree is searched,
 * and the search is bounded.
 */
const MAX_PAGES = 200;

/** The name of a parameter under path that lists amiId, or null. */
export async function findOptimizedAmiParameter(
  host: Host,
  config: Config,
  region: string,
  path: string,
  amiId: string,
): Promise<string | null> {
  const ssm = createSsm(host, awsSettings(config, region));
  let pages = 0;
  for await (const reply of ssm.parametersByPath({ Path: path, Recursive: true, MaxResults: 10 })) {
    // Values are plain AMI ids or JSON documents naming one; anything else is not trusted to match.
    const hit = reply.Parameters?.find(
      (parameter) => typeof parameter.Value === 'string' && parameter.Value.includes(amiId),
    );
    if (hit?.Name) return hit.Name;
    if (++pages === MAX_PAGES) break;
  }
  return null;
}

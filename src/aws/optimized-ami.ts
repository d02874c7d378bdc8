import { GetParametersByPathCommand, type SSMClient } from '@aws-sdk/client-ssm';

/**
 * The authoritative ECS-optimized check: is this instance's AMI among the
 * public SSM parameters Amazon publishes for its ECS-optimized AMIs? Only
 * Amazon Linux has ECS-optimized variants, so only its subtree is searched,
 * and the search is bounded.
 */
const PREFIX = '/aws/service/ecs/optimized-ami/';
const MAX_PAGES = 200;

export function optimizedAmiPath(osId: string, versionId: string): string | null {
  if (osId !== 'amzn') return null;
  if (versionId === '2023') return `${PREFIX}amazon-linux-2023/`;
  if (versionId === '2') return `${PREFIX}amazon-linux-2/`;
  return `${PREFIX}amazon-linux/`;
}

/** The name of a parameter that lists amiId, or null. */
export async function findOptimizedAmiParameter(ssm: SSMClient, path: string, amiId: string): Promise<string | null> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const reply = await ssm.send(
      new GetParametersByPathCommand({ Path: path, Recursive: true, MaxResults: 10, NextToken: nextToken }),
    );
    // Values are plain AMI ids or JSON documents naming one; anything else is not trusted to match.
    const hit = reply.Parameters?.find((parameter) => typeof parameter.Value === 'string' && parameter.Value.includes(amiId));
    if (hit?.Name) return hit.Name;
    nextToken = reply.NextToken;
    if (!nextToken) return null;
  }
  return null;
}

import { createImds, ImdsUnavailable, readAmiId, readRegion } from '../aws/imds.ts';
import type { Config } from '../core/config/load.ts';
import { messageOf } from '../core/errors.ts';
import type { Host } from '../host/host.ts';
import type { Release } from './support.ts';

export interface OnlineCheck {
  readonly evidence: readonly string[];
  /** What was checked, or why the check was skipped. */
  readonly note: string;
}

const PREFIX = '/aws/service/ecs/optimized-ami/';

/** Only Amazon Linux has ECS-optimized variants, so only its subtree is searched. */
export function optimizedAmiPath(osId: string, versionId: string): string | null {
  if (osId !== 'amzn') return null;
  if (versionId === '2023') return `${PREFIX}amazon-linux-2023/`;
  if (versionId === '2') return `${PREFIX}amazon-linux-2/`;
  return `${PREFIX}amazon-linux/`;
}

/** When running on an EC2 instance: is its AMI one of Amazon's ECS-optimized AMIs? */
export async function checkOptimizedAmiOnline(host: Host, config: Config, release: Release): Promise<OnlineCheck> {
  if (host.root !== '/') return skipped('an image root has no instance');
  const path = optimizedAmiPath(release.id, release.versionId);
  if (path === null) return skipped(`no ECS-optimized AMIs exist for ${release.id}`);
  let amiId: string;
  let region: string;
  try {
    const imds = createImds(host, config.AWS_EC2_METADATA_SERVICE_ENDPOINT);
    amiId = await readAmiId(imds);
    region = config.AWS_REGION ?? (await readRegion(imds));
  } catch (error) {
    if (error instanceof ImdsUnavailable) return skipped(error.message);
    throw error;
  }
  try {
    // The SSM client loads only here: most hosts are not Amazon Linux, and `detect` stays light.
    const { findOptimizedAmiParameter } = await import('../aws/optimized-ami.ts');
    const parameter = await findOptimizedAmiParameter(host, config, region, path, amiId);
    if (parameter)
      return { evidence: [`AMI ${amiId} is listed in the public SSM parameter ${parameter}`], note: 'checked' };
    return { evidence: [], note: `checked: AMI ${amiId} is not listed under ${path}` };
  } catch (error) {
    return skipped(`SSM ${path} could not be read: ${messageOf(error)}`);
  }
}

function skipped(reason: string): OnlineCheck {
  return { evidence: [], note: `skipped: ${reason}` };
}

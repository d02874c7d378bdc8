import { AgentError } from '../core/errors.ts';
import type { Host } from '../host/host.ts';

/** IMDSv2 only: a session token first, then reads with it (IMDSv1 may be disabled, and should be). */
export class ImdsUnavailable extends AgentError {}

export interface Imds {
  get(path: string): Promise<string>;
}

const TOKEN_TTL_SECONDS = '300';

export function createImds(host: Host, endpoint: string, timeoutMs = 2000): Imds {
  let token: string | null = null;
  const request = async (method: 'GET' | 'PUT', path: string, headers: Record<string, string>): Promise<string> => {
    let response;
    try {
      response = await host.http({ method, url: `${endpoint}${path}`, headers, timeoutMs });
    } catch (error) {
      throw new ImdsUnavailable(`IMDS at ${endpoint} did not answer: ${(error as Error).message}`);
    }
    if (response.status !== 200) throw new ImdsUnavailable(`IMDS ${method} ${path} answered HTTP ${response.status}`);
    return Buffer.from(response.body).toString('utf8');
  };
  return {
    async get(path) {
      token ??= await request('PUT', '/latest/api/token', { 'X-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS });
      return request('GET', path, { 'X-aws-ec2-metadata-token': token });
    },
  };
}

export async function readAmiId(imds: Imds): Promise<string> {
  const amiId = (await imds.get('/latest/meta-data/ami-id')).trim();
  if (!/^ami-[0-9a-f]{8,17}$/.test(amiId)) throw new ImdsUnavailable(`IMDS returned an invalid ami-id ${JSON.stringify(amiId.slice(0, 40))}`);
  return amiId;
}

export async function readRegion(imds: Imds): Promise<string> {
  const region = (await imds.get('/latest/meta-data/placement/region')).trim();
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new ImdsUnavailable(`IMDS returned an invalid region ${JSON.stringify(region.slice(0, 40))}`);
  return region;
}

/** The EC2 instance id: the holder's name in the fleet-wide reboot slots. */
export async function readInstanceId(imds: Imds): Promise<string> {
  const instanceId = (await imds.get('/latest/meta-data/instance-id')).trim();
  if (!/^i-[0-9a-f]{8,17}$/.test(instanceId)) {
    throw new ImdsUnavailable(`IMDS returned an invalid instance-id ${JSON.stringify(instanceId.slice(0, 40))}`);
  }
  return instanceId;
}

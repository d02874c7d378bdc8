import { type Imds, ImdsUnavailable } from '../aws/imds.ts';

/** The instance identity document (IMDSv2): who this instance is, and where. */
export interface InstanceIdentity {
  readonly instanceId: string;
  readonly region: string;
  readonly accountId: string;
  readonly instanceType: string;
  readonly imageId: string;
}

const PATTERNS: Readonly<Record<keyof InstanceIdentity, RegExp>> = {
  instanceId: /^i-[0-9a-f]{8,17}$/,
  region: /^[a-z]{2}(-[a-z]+)+-\d+$/,
  accountId: /^\d{12}$/,
  instanceType: /^[a-z0-9][a-z0-9.-]{1,40}$/,
  imageId: /^ami-[0-9a-f]{8,17}$/,
};

export async function readIdentity(imds: Imds): Promise<InstanceIdentity> {
  const text = await imds.get('/latest/dynamic/instance-identity/document');
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new ImdsUnavailable(`the instance identity document is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  const fields = (typeof document === 'object' && document !== null ? document : {}) as Record<string, unknown>;
  const identity: Record<string, string> = {};
  for (const [name, pattern] of Object.entries(PATTERNS)) {
    const value = fields[name];
    if (typeof value !== 'string' || !pattern.test(value)) {
      throw new ImdsUnavailable(
        `the instance identity document has no valid ${name}: ${JSON.stringify(value ?? null)}`,
      );
    }
    identity[name] = value;
  }
  return identity as unknown as InstanceIdentity;
}

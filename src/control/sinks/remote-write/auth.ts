import { ConfigError } from '../../../core/errors.ts';
import type { Host } from '../../../host/host.ts';
import { readSecretFile, readToken } from '../../auth.ts';

/**
 * How remote-write requests authenticate, one way at most: a bearer token from a file, a user and password from a
 * file (basic auth), or AWS SigV4 for Amazon Managed Service for Prometheus (service `aps`) with the SDK's signer
 * and the agent's usual credentials chain (the instance role on EC2). Files are read before every request, so a
 * rotated token is used at once, and refused when anyone but their owner could read or change them (exit 78).
 */
export interface RemoteWriteRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Uint8Array;
}

export interface RemoteWriteAuth {
  /** The headers that authenticate this request. */
  headers(request: RemoteWriteRequest): Promise<Record<string, string>>;
}

export type RemoteWriteAuthSettings =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly file: string }
  | { readonly kind: 'basic'; readonly file: string }
  /** The region is asked for on the first request (from IMDS, unless the URL or AWS_REGION names it). */
  | { readonly kind: 'sigv4'; readonly region: () => Promise<string> };

const BEARER_KEY = 'METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE';
const BASIC_KEY = 'METRICS_REMOTE_WRITE_BASIC_AUTH_FILE';
const TOKEN_HOLDER = "the remote-write endpoint's token";
/** RFC 7617: a user id without a colon; neither part may hold control characters. */
const BASIC_LINE = /^([^:\p{Cc}]+):([^\p{Cc}]*)$/u;

export function remoteWriteAuth(host: Host, settings: RemoteWriteAuthSettings): RemoteWriteAuth {
  switch (settings.kind) {
    case 'none':
      return { headers: async () => ({}) };
    case 'bearer':
      return {
        headers: async () => ({
          authorization: `Bearer ${await readToken(host, settings.file, BEARER_KEY, TOKEN_HOLDER)}`,
        }),
      };
    case 'basic':
      return {
        headers: async () => ({
          authorization: `Basic ${Buffer.from(await readBasicAuth(host, settings.file)).toString('base64')}`,
        }),
      };
    case 'sigv4':
      return sigv4(settings.region);
  }
}

/** USER:PASSWORD on the file's one line (a trailing newline is fine). */
export async function readBasicAuth(host: Host, file: string): Promise<string> {
  const line = (await readSecretFile(host, file, BASIC_KEY, 'USER:PASSWORD for the remote-write endpoint')).replace(
    /\r?\n$/,
    '',
  );
  if (!BASIC_LINE.test(line)) {
    throw new ConfigError(
      `${BASIC_KEY} ${file} does not hold one line USER:PASSWORD (a user without ":", no control characters)`,
    );
  }
  return line;
}

interface Signer {
  sign(request: object): Promise<{ headers: Record<string, string> }>;
}

/** The signer and the credentials chain (aws/aps-signer.ts) load at the first request: only hosts that sign pay. */
function sigv4(region: () => Promise<string>): RemoteWriteAuth {
  let signer: Promise<Signer> | null = null;
  const load = async (): Promise<Signer> => (await import('../../../aws/aps-signer.ts')).apsSigner(await region());
  return {
    async headers(request) {
      signer ??= load().catch((error: unknown) => {
        signer = null;
        throw error;
      });
      const url = new URL(request.url);
      const signed = await (
        await signer
      ).sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port === '' ? {} : { port: Number(url.port) }),
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: { ...request.headers, host: url.host },
        body: request.body,
      });
      // What was signed, with the signature's own headers (authorization, x-amz-date, x-amz-security-token …).
      return Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== 'host'));
    },
  };
}

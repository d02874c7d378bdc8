import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The SDK's SigV4 signer for Amazon Managed Service for Prometheus (service `aps`), with the SDK's default
 * credentials chain (environment, profile, the instance role through IMDS …), as the agent's other AWS clients
 * use it. It only signs: the remote-write sink sends the request through the Host. Reached only by a dynamic
 * import (control/sinks/remote-write/auth.ts) when METRICS_REMOTE_WRITE_SIGV4=yes.
 */
export function apsSigner(region: string): SignatureV4 {
  return new SignatureV4({ service: 'aps', region, credentials: defaultProvider(), sha256: Sha256 });
}

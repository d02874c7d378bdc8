import { AgentError } from '../../core/errors.ts';
import type { Host } from '../../host/host.ts';

/** The Amazon ECS signing key (DESIGN.md §3); the shipped key file must be this key. */
export const AMAZON_ECS_FINGERPRINT = 'F34C3DDAE72926B079BEAEC6BCE9D9A42D51784F';

export class SignatureError extends AgentError {}

export interface VerifyRequest {
  /** Local paths (this machine). */
  readonly keyFile: string;
  readonly signatureFile: string;
  readonly dataFile: string;
  /** A scratch directory for a throw-away GnuPG home. */
  readonly gnupgHome: string;
  /** When set, the key file must hold exactly this key. */
  readonly expectedFingerprint?: string;
}

/**
 * Verifies a detached signature against one key only, in a throw-away GnuPG
 * home: the machine's own keyrings and trust settings play no part. Success
 * needs gpg's VALIDSIG status from that key, not just an exit status.
 */
export async function verifyDetachedSignature(host: Host, request: VerifyRequest): Promise<string> {
  const gpg = (args: readonly string[]) =>
    host.exec('gpg', ['--homedir', request.gnupgHome, '--batch', '--no-tty', ...args], {
      target: 'local',
      timeoutMs: 60_000,
    });
  const imported = await gpg(['--import', '--', request.keyFile]);
  if (imported.exitCode !== 0)
    throw new SignatureError(`cannot import the signing key ${request.keyFile}: ${imported.stderr.trim()}`);
  const listing = await gpg(['--with-colons', '--fingerprint']);
  const fingerprints = [...listing.stdout.matchAll(/^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/gm)].map((m) => m[1] as string);
  if (request.expectedFingerprint && !fingerprints.includes(request.expectedFingerprint)) {
    throw new SignatureError(
      `${request.keyFile} is not the expected key ` +
        `${request.expectedFingerprint} (holds ${fingerprints.join(', ') || 'no key'})`,
    );
  }
  const verified = await gpg(['--status-fd', '1', '--verify', '--', request.signatureFile, request.dataFile]);
  // VALIDSIG <signing key fpr> … <primary key fpr>: the last fingerprint on the line is the key's own.
  const validSig = /^\[GNUPG:\] VALIDSIG .*$/m.exec(verified.stdout)?.[0] ?? '';
  const signer = validSig
    .split(' ')
    .filter((token) => /^[0-9A-F]{40}$/.test(token))
    .pop();
  if (verified.exitCode !== 0 || !signer || !fingerprints.includes(signer)) {
    throw new SignatureError(
      `bad or missing signature on ${request.dataFile}: ${lastLine(verified.stderr) || 'no valid signature'}`,
    );
  }
  return signer;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

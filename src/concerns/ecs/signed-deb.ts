import { hostRegion } from '../../aws/region.ts';
import { assetPath } from '../../core/assets.ts';
import type { ConcernContext } from '../../core/concern.ts';
import { AgentError, ConfigError } from '../../core/errors.ts';
import { performSteps, type Step } from '../../core/step.ts';
import { PATHS } from '../../core/paths.ts';
import { packageManagerOf } from '../../os/facts.ts';
import { AMAZON_ECS_FINGERPRINT, verifyDetachedSignature } from './gpg.ts';

/**
 * ecs-init for Ubuntu and Debian: Amazon's .deb and its detached signature
 * from the regional bucket (or a configured mirror), verified against the
 * Amazon ECS key before anything is installed. There is no unverified path.
 */
const SHIPPED_KEY = assetPath('keys/amazon-ecs-agent.asc');
const MAX_DOWNLOAD_BYTES = 200 * 2 ** 20;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const DEB_ARCH = { x86_64: 'amd64', aarch64: 'arm64' } as const;

export interface DebSource {
  readonly url: string;
  readonly signatureUrl: string;
  readonly fileName: string;
}

/** `region` null: not known yet (plan on a host whose region comes from IMDS at apply time). */
export function debSource(context: ConcernContext, region: string | null): DebSource {
  const { config, os } = context;
  if (os.arch === null)
    throw new AgentError(
      `cannot tell the architecture of ${os.root} (no /bin/sh ELF header) to pick the ecs-init .deb`,
    );
  const shownRegion = region ?? (os.root === '/' ? '<region from IMDS>' : '<AWS_REGION>');
  const base = config.ECSINIT_BASE_URL ?? `https://s3.${shownRegion}.amazonaws.com/amazon-ecs-agent-${shownRegion}`;
  const fileName = `amazon-ecs-init-${config.ECSINIT_VERSION}.${DEB_ARCH[os.arch]}.deb`;
  return { url: `${base}/${fileName}`, signatureUrl: `${base}/${fileName}.asc`, fileName };
}

/** The download and the check are the concern's own work (installSignedDeb); the install is apt's. */
export function signedDebSteps(context: ConcernContext, source: DebSource): Step[] {
  const path = `${PATHS.downloadCache}/${source.fileName}`;
  const expected = context.config.ECSINIT_SIGNING_KEY ? '' : ` (Amazon ECS key ${AMAZON_ECS_FINGERPRINT})`;
  return [
    { note: `download ${source.url} and ${source.signatureUrl}` },
    { note: `verify the signature with ${keyFile(context)}${expected}` },
    { install: packageManagerOf(context).installCommands([path]) },
  ];
}

/** The region the bucket is in: configured, or (on an instance) from IMDS. An image root needs it configured. */
async function downloadRegion(context: ConcernContext): Promise<string | null> {
  const { config, os, host } = context;
  if (config.ECSINIT_BASE_URL !== null || config.AWS_REGION !== null) return config.AWS_REGION;
  if (os.root !== '/') {
    throw new ConfigError(
      'AWS_REGION is needed to download ecs-init into an image root (or set ECSINIT_BASE_URL to a mirror)',
    );
  }
  return hostRegion(host, config);
}

/**
 * Downloads the .deb of the region the bucket is in and checks its signature, then performs the install's
 * steps: apt installs the file the steps name (the same name whatever the region).
 */
export async function installSignedDeb(context: ConcernContext, steps: readonly Step[]): Promise<void> {
  const { host } = context;
  const source = debSource(context, await downloadRegion(context));
  const debPath = `${PATHS.downloadCache}/${source.fileName}`;
  const signaturePath = `${debPath}.asc`;
  const gnupgHome = `${PATHS.downloadCache}/gnupg`;
  await host.mkdir(PATHS.downloadCache, { mode: 0o700 });
  try {
    await download(context, source.url, debPath);
    await download(context, source.signatureUrl, signaturePath);
    await host.rm(gnupgHome, { recursive: true });
    await host.mkdir(gnupgHome, { mode: 0o700 });
    const signer = await verifyDetachedSignature(host, {
      keyFile: keyFile(context),
      signatureFile: await host.localPath(signaturePath),
      dataFile: await host.localPath(debPath),
      gnupgHome: await host.localPath(gnupgHome),
      ...(context.config.ECSINIT_SIGNING_KEY ? {} : { expectedFingerprint: AMAZON_ECS_FINGERPRINT }),
    });
    context.logger.info(`ecs: ${source.fileName} is signed by ${signer}`);
    await performSteps(host, steps, packageManagerOf(context));
  } finally {
    await host.rm(PATHS.downloadCache, { recursive: true });
  }
}

function keyFile(context: ConcernContext): string {
  return context.config.ECSINIT_SIGNING_KEY ?? SHIPPED_KEY;
}

async function download(context: ConcernContext, url: string, path: string): Promise<void> {
  const response = await context.host.http({ url, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  if (response.status !== 200) throw new AgentError(`download of ${url} failed: HTTP ${response.status}`);
  if (response.body.length > MAX_DOWNLOAD_BYTES)
    throw new AgentError(`download of ${url} is larger than ${MAX_DOWNLOAD_BYTES} bytes`);
  await context.host.writeFileAtomic(path, response.body, { mode: 0o600 });
}

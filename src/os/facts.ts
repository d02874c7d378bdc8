import { MissingToolError, RefusedError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host } from '../host/host.ts';
import { firstInstalled, type PackageManager, packageManagerFor } from '../pkg/package-manager.ts';
import { findOptimizedAmiMarkers } from './ecs-optimized.ts';
import {
  type Arch,
  type CgroupFacts,
  detectArch,
  detectCgroups,
  detectGlibc,
  detectNvidiaGpus,
  detectSystemdRunning,
} from './machine.ts';
import { OsReleaseError } from './os-release.ts';
import { readRelease } from './release.ts';
import { judgeRelease, type Release, type Support } from './support.ts';

/** Everything detect reports, and what every concern plans from. */
export interface OsFacts {
  readonly root: string;
  readonly release: Release & { readonly source: string };
  readonly support: Support;
  readonly arch: Arch | null;
  readonly glibc: string | null;
  /** null: not applicable (an image root is not running). */
  readonly systemdRunning: boolean | null;
  readonly cgroups: CgroupFacts | null;
  readonly nvidiaGpus: number | null;
  readonly docker: InstalledPackage | null;
  readonly ecsInit: InstalledPackage | null;
  readonly ecsOptimizedEvidence: readonly string[];
  /**
   * Why docker and ecsInit are unknown: the package database could not be read, because the tool that reads
   * it is missing on this machine (rpm on a Debian build host). Null when they were read.
   */
  readonly packagesUnknown: string | null;
}

export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
}

export const DOCKER_PACKAGES = ['docker.io', 'docker-ce', 'docker', 'moby-engine'];
export const ECS_INIT_PACKAGES = ['ecs-init', 'amazon-ecs-init'];

export async function gatherOsFacts(host: Host): Promise<OsFacts> {
  const release = await identify(host);
  const support = judgeRelease(release);
  const packages = packageManagerOrNull(support, host);
  const installed = packages && (await installedOrMissingTool(packages));
  const docker = installed?.docker ?? null;
  const ecsInit = installed?.ecsInit ?? null;
  return {
    root: host.root,
    release,
    support,
    arch: await detectArch(host),
    glibc: await detectGlibc(host),
    systemdRunning: await detectSystemdRunning(host),
    cgroups: await detectCgroups(host),
    nvidiaGpus: await detectNvidiaGpus(host),
    docker,
    ecsInit,
    ecsOptimizedEvidence: await findOptimizedAmiMarkers(host, ecsInit !== null),
    packagesUnknown: installed?.missingTool ?? null,
  };
}

/**
 * The package manager of the managed system, the one its support verdict names, or null for a refused system
 * (none the agent knows). logger: where retries of failed downloads are reported.
 */
export function packageManagerOrNull(support: Support, host: Host, logger?: Logger): PackageManager | null {
  return support.status === 'refused' ? null : packageManagerFor(support.packageManager, host, logger);
}

/** The same for a concern: refused systems are never planned, so having none is an error. */
export function packageManagerOf(context: {
  readonly os: OsFacts;
  readonly host: Host;
  readonly logger?: Logger;
}): PackageManager {
  const packages = packageManagerOrNull(context.os.support, context.host, context.logger);
  if (packages === null) {
    throw new RefusedError('a refused system has no package manager the agent knows, and is never planned');
  }
  return packages;
}

/**
 * Docker and ecs-init as the package database has them. A tool missing on this machine leaves them unknown
 * instead of ending detection: the support verdict and refusals that need no package database come first.
 */
async function installedOrMissingTool(packages: PackageManager) {
  try {
    const docker = await firstInstalled(packages, DOCKER_PACKAGES);
    return { docker, ecsInit: await firstInstalled(packages, ECS_INIT_PACKAGES), missingTool: null };
  } catch (error) {
    if (!(error instanceof MissingToolError)) throw error;
    return { docker: null, ecsInit: null, missingTool: error.message };
  }
}

async function identify(host: Host): Promise<Release & { readonly source: string }> {
  try {
    const release = await readRelease(host);
    if (release) return release;
  } catch (error) {
    if (error instanceof OsReleaseError) throw new RefusedError(`cannot identify the system: ${error.message}`);
    throw error;
  }
  throw new RefusedError(
    `cannot identify the system: no /etc/os-release, /etc/system-release or /etc/SuSE-release under ${host.root}`,
  );
}

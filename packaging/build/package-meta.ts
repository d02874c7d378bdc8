import type { PayloadFile } from './payload.ts';
import { type Arch, PACKAGE_JSON } from './project.ts';

/** What both package formats say about the agent. */
export interface PackageMeta {
  readonly name: string;
  /** Upstream version, '-' of a pre-release turned into '~' so that it sorts before the release in dpkg and rpm. */
  readonly version: string;
  /** Package revision: deb "<version>-<release>", rpm Release. */
  readonly release: string;
  readonly summary: string;
  readonly description: string;
  readonly license: string;
  readonly maintainer: string;
  readonly homepage: string | undefined;
}

/** 'small' (xz -2, multi-threaded) for releases, 'fast' (gzip -1) for tests. */
export type Compression = 'small' | 'fast';

/** One package to build, in either format. */
export interface PackageBuild {
  readonly meta: PackageMeta;
  readonly arch: Arch;
  readonly files: readonly PayloadFile[];
  readonly workDir: string;
  readonly outDir: string;
  readonly compression: Compression;
}

const DESCRIPTION = `Turns a plain Linux host into an Amazon ECS container instance and keeps it
that way: installs Docker and ecs-init the way the distribution expects, writes
/etc/ecs/ecs.config, manages Btrfs image storage, security updates with
drained reboots, SSH users and metrics. Ships its own Node.js runtime.`;

export function packageMeta(version: string): PackageMeta {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$/.test(version))
    throw new Error(`version ${JSON.stringify(version)} is not MAJOR.MINOR.PATCH[-PRERELEASE]`);
  return {
    name: PACKAGE_JSON.name,
    version: version.replace('-', '~'),
    release: '1',
    summary: PACKAGE_JSON.description,
    description: DESCRIPTION,
    license: PACKAGE_JSON.license,
    maintainer: 'ecs-host-agent maintainers <ecs-host-agent@invalid>',
    homepage: PACKAGE_JSON.homepage,
  };
}

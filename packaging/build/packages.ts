import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { bundleAgent } from './bundle.ts';
import { buildDeb, DEB_UNIT_DIR } from './deb.ts';
import { nodeBinary } from './node-runtime.ts';
import { type Compression, packageMeta } from './package-meta.ts';
import { payloadFiles } from './payload.ts';
import { type Arch, nodeVersion, PACKAGE_JSON } from './project.ts';
import { buildRpm, RPM_UNIT_DIR } from './rpm.ts';

export type Format = 'deb' | 'rpm';

export interface BuildOptions {
  readonly arches: readonly Arch[];
  readonly formats?: readonly Format[];
  readonly outDir: string;
  /** Default: package.json's version. */
  readonly version?: string;
  /** 'fast' (gzip -1) for tests; releases use 'small' (xz). */
  readonly compression?: Compression;
}

export interface BuiltPackage {
  readonly arch: Arch;
  readonly format: Format;
  readonly path: string;
}

/**
 * `npm run package`: one bundle of the agent, then for each architecture a
 * .deb (dpkg-deb) and an .rpm (rpmbuild) with the matching Node.js runtime,
 * and a SHA256SUMS file listing them.
 */
export async function buildPackages(options: BuildOptions): Promise<BuiltPackage[]> {
  const version = options.version ?? PACKAGE_JSON.version;
  const meta = packageMeta(version);
  const formats = options.formats ?? ['deb', 'rpm'];
  const compression = options.compression ?? 'small';
  mkdirSync(options.outDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'ecs-host-agent-package-'));
  try {
    const bundle = `${workDir}/ecs-host-agent.mjs`;
    await bundleAgent(bundle, version);
    const built: BuiltPackage[] = [];
    for (const arch of options.arches) {
      const node = nodeBinary(arch, nodeVersion());
      const common = { meta, arch, workDir, outDir: options.outDir, compression };
      if (formats.includes('deb')) built.push({ arch, format: 'deb', path: buildDeb({ ...common, files: payloadFiles(bundle, node, DEB_UNIT_DIR) }) });
      if (formats.includes('rpm')) built.push({ arch, format: 'rpm', path: buildRpm({ ...common, files: payloadFiles(bundle, node, RPM_UNIT_DIR) }) });
    }
    writeChecksums(options.outDir, built);
    return built;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** In `sha256sum -c` format, for the rollout document and user-data to check downloads against. */
function writeChecksums(outDir: string, built: readonly BuiltPackage[]): void {
  const lines = built.map((pkg) => `${createHash('sha256').update(readFileSync(pkg.path)).digest('hex')}  ${basename(pkg.path)}\n`);
  writeFileSync(`${outDir}/SHA256SUMS`, lines.join(''));
}

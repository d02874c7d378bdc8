import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

import { bundleAgent } from './bundle.ts';
import { buildDeb, DEB_UNIT_DIR } from './deb.ts';
import { debLicenseFiles, rpmLicenseFiles } from './licenses.ts';
import { nodeRuntime } from './node-runtime.ts';
import { type Compression, packageMeta } from './package-meta.ts';
import { payloadFiles } from './payload.ts';
import { type Arch, nodeVersion, PACKAGE_JSON, REPO } from './project.ts';
import { buildRpm, RPM_UNIT_DIR } from './rpm.ts';
import { bundledPackages } from './third-party.ts';

export type Format = 'deb' | 'rpm';

export interface BuildOptions {
  readonly arches: readonly Arch[];
  readonly formats?: readonly Format[];
  readonly outDir: string;
  /** Default: package.json's version. */
  readonly version?: string;
  /** 'fast' (gzip -1) for tests; releases use 'small' (xz -2). */
  readonly compression?: Compression;
}

export interface BuiltPackage {
  readonly arch: Arch;
  readonly format: Format;
  readonly path: string;
}

/**
 * `npm run package`: one bundle of the agent, then for each architecture a
 * .deb (dpkg-deb) and an .rpm (rpmbuild) with the matching Node.js runtime
 * and the licences of everything they ship, and a SHA256SUMS file listing them.
 */
export async function buildPackages(options: BuildOptions): Promise<BuiltPackage[]> {
  const version = options.version ?? PACKAGE_JSON.version;
  const meta = packageMeta(version);
  const formats = options.formats ?? ['deb', 'rpm'];
  const compression = options.compression ?? 'small';
  mkdirSync(options.outDir, { recursive: true });
  const workDir = mkdtempSync(join(tmpdir(), 'ecs-host-agent-package-'));
  try {
    const bundle = await bundleAgent(`${workDir}/bundle`, version);
    const bundled = bundledPackages(bundle.inputs, REPO);
    const built: BuiltPackage[] = [];
    for (const arch of options.arches) {
      const node = nodeRuntime(arch, nodeVersion());
      const common = { meta, arch, workDir, outDir: options.outDir, compression };
      const licenses = { meta, node, bundled, dir: `${workDir}/licenses-${arch}` };
      if (formats.includes('deb')) {
        const files = payloadFiles(bundle, node.binary, DEB_UNIT_DIR, debLicenseFiles(licenses));
        built.push({ arch, format: 'deb', path: buildDeb({ ...common, files }) });
      }
      if (formats.includes('rpm')) {
        const files = payloadFiles(bundle, node.binary, RPM_UNIT_DIR, rpmLicenseFiles(licenses));
        built.push({ arch, format: 'rpm', path: buildRpm({ ...common, files }) });
      }
    }
    writeChecksums(options.outDir, built);
    return built;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** In `sha256sum -c` format, for the rollout document and user-data to check downloads against. */
function writeChecksums(outDir: string, built: readonly BuiltPackage[]): void {
  const lines = built.map(
    (pkg) => `${createHash('sha256').update(readFileSync(pkg.path)).digest('hex')}  ${basename(pkg.path)}\n`,
  );
  writeFileSync(`${outDir}/SHA256SUMS`, lines.join(''));
}

import { mkdirSync, statSync, writeFileSync } from 'node:fs';

import type { Compression, PackageBuild, PackageMeta } from './package-meta.ts';
import { stagePayload } from './payload.ts';
import type { Arch } from './project.ts';
import { maintainerScript } from './scripts.ts';
import { runTool } from './tool.ts';

/** Debian and Ubuntu keep units under /lib (the same directory as /usr/lib on merged-/usr systems). */
export const DEB_UNIT_DIR = '/lib/systemd/system';

/**
 * What the agent needs from the system: Node.js 24's official binary needs
 * glibc 2.28, libstdc++ with GLIBCXX_3.4.21 (GCC 5) and libgcc_s; the agent
 * verifies ecs-init's signature with gpg. Debian-family systems only, since
 * the deb is only installed there.
 */
const DEB_DEPENDS = 'libc6 (>= 2.28), libstdc++6 (>= 5.2), libgcc-s1 (>= 3.4) | libgcc1, gpg';

/**
 * xz, which every dpkg that runs Node.js 24 reads (zstd needs dpkg 1.21.18: not Debian 11 or Ubuntu 20.04).
 * Level 2, on as many threads as dpkg-deb finds: 4 times faster than the default 6 for a package 14 % larger.
 */
const COMPRESSION_ARGS: Record<Compression, string[]> = { small: ['-Zxz', '-z2'], fast: ['-Zgzip', '-z1'] };

function debFileName(meta: PackageMeta, arch: Arch): string {
  return `${meta.name}_${meta.version}-${meta.release}_${arch}.deb`;
}

export function buildDeb(build: PackageBuild): string {
  const root = `${build.workDir}/deb-${build.arch}`;
  stagePayload(root, build.files);
  const control = `${root}/DEBIAN`;
  mkdirSync(control, { mode: 0o755 });
  writeFileSync(`${control}/control`, controlFile(build));
  writeFileSync(
    `${control}/conffiles`,
    build.files
      .filter((file) => file.config)
      .map((file) => `${file.path}\n`)
      .join(''),
  );
  for (const script of ['postinst', 'prerm', 'postrm']) {
    writeFileSync(`${control}/${script}`, maintainerScript(`deb/${script}`), { mode: 0o755 });
  }
  const deb = `${build.outDir}/${debFileName(build.meta, build.arch)}`;
  runTool('dpkg-deb', ['--root-owner-group', ...COMPRESSION_ARGS[build.compression], '--build', root, deb]);
  return deb;
}

function controlFile({ meta, arch, files }: PackageBuild): string {
  const installedKiB = files.reduce((sum, file) => sum + Math.ceil(statSync(file.source).size / 1024), 0);
  const fields = [
    `Package: ${meta.name}`,
    `Version: ${meta.version}-${meta.release}`,
    `Architecture: ${arch}`,
    `Maintainer: ${meta.maintainer}`,
    `Installed-Size: ${installedKiB}`,
    `Depends: ${DEB_DEPENDS}`,
    'Section: admin',
    'Priority: optional',
    ...(meta.homepage ? [`Homepage: ${meta.homepage}`] : []),
    `Description: ${meta.summary}`,
    ...meta.description.split('\n').map((line) => ` ${line}`),
  ];
  return `${fields.join('\n')}\n`;
}

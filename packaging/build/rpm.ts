import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

import { RPM_LICENSE_DIR } from './licenses.ts';
import type { Compression, PackageBuild, PackageMeta } from './package-meta.ts';
import { OWNED_DIRS, type PayloadFile, stagePayload } from './payload.ts';
import { ARCHES, type Arch, PACKAGING } from './project.ts';
import { maintainerScript } from './scripts.ts';
import { runTool } from './tool.ts';

export const RPM_UNIT_DIR = '/usr/lib/systemd/system';

/**
 * xz, multi-threaded: every rpm that runs Node.js 24 reads it (zstd would leave SLES 15 SP3 behind). Level 2,
 * as for the .deb (packaging/build/deb.ts).
 */
const PAYLOAD: Record<Compression, string> = { small: 'w2T.xzdio', fast: 'w1.gzdio' };

function rpmFileName(meta: PackageMeta, arch: Arch): string {
  return `${meta.name}-${meta.version}-${meta.release}.${ARCHES[arch].rpm}.rpm`;
}

export function buildRpm(build: PackageBuild): string {
  const { arch, workDir, compression } = build;
  const dir = `${workDir}/rpm-${arch}`;
  const stage = `${dir}/stage`;
  stagePayload(stage, build.files);
  const spec = `${dir}/ecs-host-agent.spec`;
  writeFileSync(spec, renderSpec(build, stage));
  mkdirSync(`${dir}/top`, { recursive: true });
  runTool('rpmbuild', [
    '-bb',
    '--quiet',
    // No BuildRequires: this also keeps rpmbuild out of this machine's rpm database.
    '--nodeps',
    '--target',
    `${ARCHES[arch].rpm}-linux`,
    '--define',
    `_topdir ${dir}/top`,
    '--define',
    `_rpmdir ${dir}/out`,
    '--define',
    `_binary_payload ${PAYLOAD[compression]}`,
    spec,
  ]);
  const rpm = `${build.outDir}/${rpmFileName(build.meta, arch)}`;
  renameSync(`${dir}/out/${ARCHES[arch].rpm}/${rpmFileName(build.meta, arch)}`, rpm);
  return rpm;
}

function renderSpec({ meta, files }: PackageBuild, stage: string): string {
  const values: Record<string, string> = {
    NAME: meta.name,
    VERSION: meta.version,
    RELEASE: meta.release,
    SUMMARY: meta.summary,
    LICENSE: meta.license,
    DESCRIPTION: meta.description,
    STAGE: stage,
    FILES: fileList(files),
    POST: scriptlet('rpm/post.sh'),
    PREUN: scriptlet('rpm/preun.sh'),
    POSTUN: scriptlet('rpm/postun.sh'),
  };
  const template = readFileSync(`${PACKAGING}rpm/ecs-host-agent.spec`, 'utf8');
  return template.replace(/@([A-Z]+)@/g, (placeholder, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`unknown placeholder ${placeholder} in the spec template`);
    return value;
  });
}

function fileList(files: readonly PayloadFile[]): string {
  const dirs = [...OWNED_DIRS, RPM_LICENSE_DIR].map((dir) => `%dir ${dir}`);
  const entries = files.map(
    (file) => `${fileDirective(file)}%attr(${file.mode.toString(8).padStart(4, '0')},root,root) ${file.path}`,
  );
  return [...dirs, ...entries].join('\n');
}

function fileDirective(file: PayloadFile): string {
  if (file.config) return '%config(noreplace) ';
  if (file.license) return '%license ';
  return file.doc ? '%doc ' : '';
}

/** rpmbuild expands macros in scriptlets: a literal % is written %%. */
function scriptlet(part: string): string {
  return maintainerScript(part).replaceAll('%', '%%');
}

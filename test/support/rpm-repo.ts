/**
 * Local rpm-md repositories for the RPM-family tests: tiny noarch packages
 * built with rpmbuild from generated specs, indexed with createrepo_c, and
 * optionally security advisories (updateinfo.xml) added with modifyrepo_c,
 * which `dnf --security` and `zypper list-patches` both read.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runTool } from './run-tool.ts';

export interface PackageFile {
  /** Where the package installs it, as the managed system sees it. */
  readonly path: string;
  readonly content: string;
  /** Defaults to 0644. */
  readonly mode?: number;
}

export interface RpmPackage {
  readonly name: string;
  readonly version: string;
  readonly release: string;
  readonly files?: readonly PackageFile[];
  /** rpm dependency expressions, e.g. "docker" or "docker >= 20". */
  readonly requires?: readonly string[];
  readonly provides?: readonly string[];
}

export interface SecurityAdvisory {
  /** e.g. ALAS2023-2026-001 or SUSE-SU-2026:0001-1; zypper shows it as the patch name. */
  readonly id: string;
  readonly title: string;
  readonly severity: 'Critical' | 'Important' | 'Moderate' | 'Low';
  /** "YYYY-MM-DD HH:MM:SS" */
  readonly issued: string;
  /** The fixed packages; they must be in the same repository. */
  readonly packages: readonly RpmPackage[];
}

/** rpmbuild's default puts packages in a per-arch subdirectory; flat is easier to name. */
const FLAT_NAME_FORMAT = '%%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm';

/** What `PackageManager.installedVersion` reports once the package is installed. */
export function versionRelease(pkg: RpmPackage): string {
  return `${pkg.version}-${pkg.release}`;
}

export function rpmFileName(pkg: RpmPackage): string {
  return `${pkg.name}-${versionRelease(pkg)}.noarch.rpm`;
}

/** Builds the packages into dir and makes it a repository (with the advisories, if any); returns dir. */
export async function buildRpmRepo(
  dir: string,
  packages: readonly RpmPackage[],
  advisories: readonly SecurityAdvisory[] = [],
): Promise<string> {
  await buildRpms(dir, packages);
  await runTool('createrepo_c', ['--quiet', dir]);
  if (advisories.length > 0) await addSecurityAdvisories(dir, advisories);
  return dir;
}

/** Builds each package into outDir; returns the package files. */
export async function buildRpms(outDir: string, packages: readonly RpmPackage[]): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  return withScratchDir((scratch) => Promise.all(packages.map((pkg) => buildRpm(scratch, outDir, pkg))));
}

/** Adds updateinfo.xml to a repository made by buildRpmRepo. */
export async function addSecurityAdvisories(repo: string, advisories: readonly SecurityAdvisory[]): Promise<void> {
  await withScratchDir(async (work) => {
    const updateinfo = join(work, 'updateinfo.xml');
    await writeFile(updateinfo, updateinfoXml(advisories));
    await runTool('modifyrepo_c', ['--mdtype=updateinfo', updateinfo, join(repo, 'repodata')]);
  });
}

async function buildRpm(scratch: string, outDir: string, pkg: RpmPackage): Promise<string> {
  const work = join(scratch, `${pkg.name}-${versionRelease(pkg)}`);
  await mkdir(work);
  const files = pkg.files ?? [];
  await Promise.all(files.map((file, index) => writeFile(join(work, `source${index}`), file.content)));
  const spec = join(work, `${pkg.name}.spec`);
  await writeFile(spec, specOf(pkg));
  const defines = { _topdir: work, _sourcedir: work, _rpmdir: outDir, _build_name_fmt: FLAT_NAME_FORMAT };
  const defineArgs = Object.entries(defines).flatMap(([macro, value]) => ['--define', `${macro} ${value}`]);
  // The specs have no BuildRequires; --nodeps also keeps rpmbuild out of this machine's rpm database.
  await runTool('rpmbuild', ['-bb', '--quiet', '--nodeps', ...defineArgs, spec]);
  return join(outDir, rpmFileName(pkg));
}

function specOf(pkg: RpmPackage): string {
  const files = pkg.files ?? [];
  return [
    `Name: ${pkg.name}`,
    `Version: ${pkg.version}`,
    `Release: ${pkg.release}`,
    `Summary: Test stand-in for ${pkg.name}`,
    'License: Apache-2.0',
    'BuildArch: noarch',
    // Only the declared dependencies: rpm would add /bin/sh for the stub scripts, which a scratch root lacks.
    'AutoReqProv: no',
    ...(pkg.requires ?? []).map((dependency) => `Requires: ${dependency}`),
    ...(pkg.provides ?? []).map((capability) => `Provides: ${capability}`),
    ...files.map((_, index) => `Source${index}: source${index}`),
    '',
    '%description',
    `A stand-in for ${pkg.name}, built by the ecs-host-agent tests.`,
    '',
    '%install',
    ...files.map((file, index) => `install -D -m ${octal(file)} %{SOURCE${index}} %{buildroot}${file.path}`),
    '',
    '%files',
    ...files.map((file) => `%attr(${octal(file)},root,root) ${file.path}`),
    '',
  ].join('\n');
}

function octal(file: PackageFile): string {
  return (file.mode ?? 0o644).toString(8).padStart(4, '0');
}

function updateinfoXml(advisories: readonly SecurityAdvisory[]): string {
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<updates>', ...advisories.map(advisoryXml), '</updates>', ''].join(
    '\n',
  );
}

function advisoryXml(advisory: SecurityAdvisory): string {
  return `  <update from="ecs-host-agent-tests" status="final" type="security" version="1">
    <id>${xmlText(advisory.id)}</id>
    <title>${xmlText(advisory.title)}</title>
    <issued date="${xmlText(advisory.issued)}"/>
    <severity>${advisory.severity}</severity>
    <description>${xmlText(advisory.title)}</description>
    <references/>
    <pkglist>
      <collection short="local">
        <name>local</name>
${advisory.packages.map(advisoryPackageXml).join('\n')}
      </collection>
    </pkglist>
  </update>`;
}

function advisoryPackageXml(pkg: RpmPackage): string {
  const attributes =
    `name="${xmlText(pkg.name)}" version="${xmlText(pkg.version)}" ` +
    `release="${xmlText(pkg.release)}" epoch="0" arch="noarch"`;
  return (
    `        <package ${attributes}>\n          ` +
    `<filename>${xmlText(rpmFileName(pkg))}</filename>\n        </package>`
  );
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

async function withScratchDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'rpm-repo-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Stand-ins for what the docker and ecs concerns install, carrying the files
// those concerns look for. The contents are unique to these stubs, so a test
// can tell them from any real copy on this machine.

function stubExecutable(path: string): PackageFile {
  return { path, content: `#!/bin/sh\n# ecs-host-agent test stub of ${path}: does nothing\nexit 0\n`, mode: 0o755 };
}

function ecsInitUnit(path: string, ecsInit: string): PackageFile {
  const content = [
    '[Unit]',
    'Description=Amazon Elastic Container Service - container agent (ecs-host-agent test stub)',
    'Requires=docker.service',
    'After=docker.service',
    '',
    '[Service]',
    'Type=simple',
    'EnvironmentFile=-/etc/ecs/ecs.config',
    `ExecStartPre=${ecsInit} pre-start`,
    `ExecStart=${ecsInit} start`,
    `ExecStop=${ecsInit} stop`,
    `ExecStopPost=${ecsInit} post-stop`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return { path, content };
}

const DOCKER_UNIT: PackageFile = {
  path: '/usr/lib/systemd/system/docker.service',
  content: [
    '[Unit]',
    'Description=Docker Application Container Engine (ecs-host-agent test stub)',
    '',
    '[Service]',
    'ExecStart=/usr/bin/dockerd -H fd://',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n'),
};

/** `docker`, as Amazon Linux 2023 and SLES 15 both name it. */
export const DOCKER: RpmPackage = {
  name: 'docker',
  version: '25.0.3',
  release: '1',
  files: [stubExecutable('/usr/bin/dockerd'), DOCKER_UNIT],
};

/** Amazon Linux 2023's `ecs-init`: unit ecs.service. */
export const ECS_INIT: RpmPackage = {
  name: 'ecs-init',
  version: '1.88.0',
  release: '1',
  requires: ['docker'],
  files: [
    stubExecutable('/usr/libexec/amazon-ecs-init'),
    ecsInitUnit('/usr/lib/systemd/system/ecs.service', '/usr/libexec/amazon-ecs-init'),
  ],
};

/** SLES 15's `amazon-ecs-init`: unit amazon-ecs.service. */
export const AMAZON_ECS_INIT: RpmPackage = {
  name: 'amazon-ecs-init',
  version: '1.88.0',
  release: '1',
  requires: ['docker'],
  files: [
    stubExecutable('/usr/sbin/amazon-ecs-init'),
    ecsInitUnit('/usr/lib/systemd/system/amazon-ecs.service', '/usr/sbin/amazon-ecs-init'),
  ],
};

/** Where `dnf needs-restarting` comes from: the updates concern installs it on dnf systems that lack it. */
export const DNF_PLUGINS_CORE: RpmPackage = {
  name: 'dnf-plugins-core',
  version: '4.3.0',
  release: '1',
  files: [{ path: '/usr/lib/python3.9/site-packages/dnf-plugins/needs_restarting.py', content: '# stand-in\n' }],
};

/** What `apply` installs on the RPM family, as stubs. */
export const ECS_STUB_PACKAGES: readonly RpmPackage[] = [DOCKER, ECS_INIT, AMAZON_ECS_INIT, DNF_PLUGINS_CORE];

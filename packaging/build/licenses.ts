import { mkdirSync, writeFileSync } from 'node:fs';

import { debianCopyright } from './copyright.ts';
import type { NodeRuntime } from './node-runtime.ts';
import type { PackageMeta } from './package-meta.ts';
import { BUNDLE_FILES, DOC_DIR, NODE_PATH, type PayloadFile } from './payload.ts';
import { PACKAGING } from './project.ts';
import { type BundledPackage, thirdPartyLicenses } from './third-party.ts';

const DEB_COPYRIGHT = `${DOC_DIR}/copyright`;
export const RPM_LICENSE_DIR = '/usr/share/licenses/ecs-host-agent';
/** The agent's own licence (package.json's Apache-2.0). */
const AGENT_LICENSE = `${PACKAGING}LICENSE`;

/** What a package's licence files cover; generated texts are written to `dir`. */
export interface LicenseSources {
  readonly meta: PackageMeta;
  readonly node: NodeRuntime;
  readonly bundled: readonly BundledPackage[];
  readonly dir: string;
}

/** Debian keeps every licence in one machine-readable copyright file. */
export function debLicenseFiles({ meta, node, bundled, dir }: LicenseSources): PayloadFile[] {
  const copyright = `${dir}/copyright`;
  mkdirSync(dir, { recursive: true });
  const text = debianCopyright(meta, {
    agentLicense: AGENT_LICENSE,
    node: { path: NODE_PATH.slice(1), license: node.license },
    bundlePath: BUNDLE_FILES.slice(1),
    bundled,
  });
  writeFileSync(copyright, text);
  return [{ path: DEB_COPYRIGHT, source: copyright, mode: 0o644 }];
}

/** RPM-family systems keep licence texts as %license files, one per work. */
export function rpmLicenseFiles({ node, bundled, dir }: LicenseSources): PayloadFile[] {
  const thirdParty = `${dir}/THIRD-PARTY-LICENSES`;
  mkdirSync(dir, { recursive: true });
  writeFileSync(thirdParty, thirdPartyLicenses(bundled, BUNDLE_FILES));
  return [
    { path: `${RPM_LICENSE_DIR}/LICENSE`, source: AGENT_LICENSE, mode: 0o644, license: true },
    { path: `${RPM_LICENSE_DIR}/NODEJS-LICENSE`, source: node.license, mode: 0o644, license: true },
    { path: `${RPM_LICENSE_DIR}/THIRD-PARTY-LICENSES`, source: thirdParty, mode: 0o644, license: true },
  ];
}

import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';
import { parseOsRelease } from './os-release.ts';
import type { Release } from './support.ts';

/**
 * Identifies the release from /etc/os-release, falling back to the older
 * /etc/system-release (Amazon Linux) and /etc/SuSE-release (SLES) where a
 * system has no os-release. Null when none of them is there.
 */
export async function readRelease(host: Host): Promise<(Release & { readonly source: string }) | null> {
  for (const path of ['/etc/os-release', '/usr/lib/os-release']) {
    const text = await readTextIfExists(host, path);
    if (text !== null) return fromOsRelease(parseOsRelease(text, path), path);
  }
  const systemRelease = await readTextIfExists(host, '/etc/system-release');
  const amazon = systemRelease && /^Amazon Linux(?: AMI)? release (\S+)/.exec(systemRelease);
  if (amazon) {
    const versionId = (amazon[1] as string).replace(/^(2023)\..*$/, '$1');
    return { id: 'amzn', versionId, prettyName: systemRelease.trim(), source: '/etc/system-release' };
  }
  const suseRelease = await readTextIfExists(host, '/etc/SuSE-release');
  if (suseRelease) return fromSuseRelease(suseRelease);
  return null;
}

function fromOsRelease(fields: Record<string, string>, source: string): Release & { readonly source: string } {
  const id = fields.ID ?? 'linux';
  const versionId = fields.VERSION_ID ?? '';
  return { id, versionId, prettyName: fields.PRETTY_NAME ?? `${fields.NAME ?? id} ${versionId}`.trim(), source };
}

function fromSuseRelease(text: string): Release & { readonly source: string } {
  const version = /^VERSION\s*=\s*(\d+)/m.exec(text)?.[1] ?? '';
  const patchLevel = /^PATCHLEVEL\s*=\s*(\d+)/m.exec(text)?.[1] ?? '0';
  const firstLine = text.split('\n')[0]?.trim() ?? '';
  const id = /openSUSE/i.test(firstLine) ? 'opensuse-leap' : 'sles';
  return { id, versionId: `${version}.${patchLevel}`, prettyName: firstLine, source: '/etc/SuSE-release' };
}

/**
 * Readers of dnf's plain-text listings (run with -q, so no progress lines).
 * `check-update` prints "name.arch  version-release  repo", wrapping onto the
 * next line when the name is long; `updateinfo list` prints
 * "ADVISORY  Severity/Sec.  name-[epoch:]version-release.arch".
 */
export interface DnfUpdate {
  readonly name: string;
  readonly arch: string;
  readonly version: string;
}

export interface DnfAdvisory {
  readonly id: string;
  readonly severity: string | null;
  readonly packageName: string;
}

export function parseCheckUpdate(output: string): DnfUpdate[] {
  const updates: DnfUpdate[] = [];
  let pending: string[] = [];
  for (const line of output.split('\n')) {
    // What follows lists packages that replace others, already counted above.
    if (/^Obsoleting Packages/.test(line)) break;
    const tokens = line.trim().split(/\s+/).filter(Boolean);
    if (tokens.length === 0 || /:$/.test(tokens[0] as string) || /^Security:/.test(line)) {
      pending = [];
      continue;
    }
    pending = [...pending, ...tokens];
    if (pending.length < 3) continue;
    const [nameArch, version] = pending as [string, string];
    pending = [];
    const dot = nameArch.lastIndexOf('.');
    if (dot > 0) updates.push({ name: nameArch.slice(0, dot), arch: nameArch.slice(dot + 1), version });
  }
  return updates;
}

export function parseUpdateinfoList(output: string): DnfAdvisory[] {
  const advisories: DnfAdvisory[] = [];
  for (const line of output.split('\n')) {
    const match = /^(\S+)\s+(\S*Sec\.)\s+(\S+)$/.exec(line.trim());
    if (!match) continue;
    const [, id, kind, nevra] = match as unknown as [string, string, string, string];
    const severity = kind.includes('/') ? kind.slice(0, kind.indexOf('/')) : null;
    advisories.push({ id, severity, packageName: nameOfNevra(nevra) });
  }
  return advisories;
}

/** "openssl-libs-1:3.0.8-1.amzn2023.0.3.x86_64" → "openssl-libs". */
export function nameOfNevra(nevra: string): string {
  const withoutArch = nevra.slice(0, nevra.lastIndexOf('.'));
  return withoutArch.split('-').slice(0, -2).join('-');
}

/**
 * AL2023 release versions such as 2023.6.20241010; `check-release-update` prints "dnf upgrade --releasever=…" per newer
 * one.
 */
export const RELEASE_VERSION = /^2023\.\d+\.\d{8}$/;

export function newestOfferedRelease(output: string): string | null {
  const offered = [...output.matchAll(/--releasever=(2023\.\d+\.\d{8})\b/g)].map((match) => match[1] as string);
  return offered.sort(compareReleases).at(-1) ?? null;
}

export function compareReleases(a: string, b: string): number {
  const [pa, pb] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const difference = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

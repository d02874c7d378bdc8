/**
 * The support matrix. A release is supported as a host, supported only as an
 * image root provisioned with --root from a supported build machine (its glibc
 * cannot run the agent's own Node.js 24 runtime), or refused with the reason.
 */
export type PackageManagerName = 'apt' | 'dnf' | 'yum' | 'zypper';

export interface Release {
  readonly id: string;
  readonly versionId: string;
  readonly prettyName: string;
}

export type Support =
  | { readonly status: 'supported'; readonly packageManager: PackageManagerName }
  | { readonly status: 'image-only'; readonly packageManager: PackageManagerName; readonly reason: string }
  | { readonly status: 'refused'; readonly reason: string };

export const SUPPORTED_LIST =
  'Amazon Linux 2023; Ubuntu 20.04, 22.04, 24.04; Debian 11, 12; SLES 15 SP3 and later; openSUSE Leap 15.3 and later';

const NODE_GLIBC = "the agent's Node.js 24 runtime needs glibc 2.28 or later";

type Rule = (version: string) => Support | null;

const RULES: Readonly<Record<string, Rule>> = {
  amzn: (version) => {
    if (version === '2023') return { status: 'supported', packageManager: 'dnf' };
    if (version === '2') {
      return imageOnly(
        'yum',
        `Amazon Linux 2 has glibc 2.26 and ${NODE_GLIBC}; its support ends 2026-06-30: move to Amazon Linux 2023`,
      );
    }
    if (/^201[5-8]\.(03|09)$/.test(version)) {
      return refused(
        'the Amazon Linux AMI (2015.03-2018.03) is end of life and its glibc is too ' +
          'old: move to Amazon Linux 2023',
      );
    }
    return null;
  },
  ubuntu: (version) => {
    if (['20.04', '22.04', '24.04'].includes(version)) return { status: 'supported', packageManager: 'apt' };
    if (['14.04', '16.04', '18.04'].includes(version)) {
      return refused(`Ubuntu ${version} is past standard support and its glibc is older than 2.28 (${NODE_GLIBC})`);
    }
    return null;
  },
  debian: (version) => (['11', '12'].includes(version) ? { status: 'supported', packageManager: 'apt' } : null),
  sles: (version) => suseRule(version, 'SLES'),
  'opensuse-leap': (version) => suseRule(version, 'openSUSE Leap'),
};

function suseRule(version: string, name: string): Support | null {
  const [major, minor = 0] = version.split('.').map(Number) as [number, number?];
  if (major === 15 && minor >= 3) return { status: 'supported', packageManager: 'zypper' };
  if (major === 12 && name === 'SLES') {
    return imageOnly('zypper', `SLES 12 has glibc 2.22 and ${NODE_GLIBC}`);
  }
  if (major === 15) return refused(`${name} 15 before SP3 (15.3) is unsupported`);
  return null;
}

export function judgeRelease(release: Release): Support {
  const rule = RULES[release.id];
  return (
    rule?.(release.versionId) ??
    refused(
      `${release.prettyName || `${release.id} ${release.versionId}`} is not supported; ` +
        `supported: ${SUPPORTED_LIST}`,
    )
  );
}

function imageOnly(packageManager: PackageManagerName, reason: string): Support {
  return {
    status: 'image-only',
    packageManager,
    reason: `${reason}; an image root of it can still be provisioned with --root from a supported build host`,
  };
}

function refused(reason: string): Support {
  return { status: 'refused', reason };
}

import type { Host } from '../host/host.ts';
import { readTextIfExists } from '../host/host.ts';
import { parseDpkgStatus } from './dpkg-status.ts';
import type { PackageManager } from './package-manager.ts';

const DPKG_STATUS = '/var/lib/dpkg/status';

export function aptPackageManager(host: Host): PackageManager {
  return {
    name: 'apt',
    async installedVersion(name) {
      const entry = parseDpkgStatus((await readTextIfExists(host, DPKG_STATUS)) ?? '').get(name);
      return entry?.installed ? entry.version : null;
    },
  };
}

import { fileURLToPath } from 'node:url';

/**
 * Files the agent ships besides its code (the Amazon ECS signing key). In the
 * source tree they live under packaging/; the package build
 * (packaging/build.ts) bundles the code into one file and defines
 * PACKAGED_ASSET_DIR as where the package installs them, relative to that file.
 */
declare const PACKAGED_ASSET_DIR: string | undefined;

const ASSET_DIR =
  typeof PACKAGED_ASSET_DIR === 'string'
    ? new URL(PACKAGED_ASSET_DIR, import.meta.url)
    : new URL('../../packaging/', import.meta.url);

/** A shipped file, by its path under packaging/. */
export function assetPath(name: string): string {
  return fileURLToPath(new URL(name, ASSET_DIR));
}

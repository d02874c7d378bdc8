/**
 * `npm run package [-- --arch amd64|arm64] [--out DIR] [--fast]`: builds the
 * .deb and .rpm packages (packaging/build/packages.ts) into dist/packages.
 */
import { parseArgs } from 'node:util';

import { buildPackages } from './build/packages.ts';
import { type Arch, isArch, REPO } from './build/project.ts';

export { buildPackages } from './build/packages.ts';
export type { BuildOptions, BuiltPackage, Format } from './build/packages.ts';

async function cli(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args],
    options: { arch: { type: 'string', multiple: true }, out: { type: 'string' }, fast: { type: 'boolean' } },
    strict: true,
  });
  const arches: Arch[] = (values.arch ?? ['amd64', 'arm64']).map((name) => {
    if (!isArch(name)) throw new Error(`--arch ${JSON.stringify(name)}: allowed: amd64, arm64`);
    return name;
  });
  const built = await buildPackages({
    arches,
    outDir: values.out ?? `${REPO}dist/packages`,
    compression: values.fast ? 'fast' : 'small',
  });
  for (const pkg of built) console.log(pkg.path);
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`package: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}

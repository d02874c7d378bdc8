import { build, type Plugin } from 'esbuild';

import { PACKAGE_JSON, PACKAGE_JSON_PATH, REPO } from './project.ts';

/** Where the package installs the bundle's companions, relative to the bundle (see src/core/assets.ts). */
const ASSET_DIR_IN_PACKAGE = './';

/** Another entry bundled exactly as the agent is (the metrics benchmark's sampler loop), with extra constants. */
export interface BundleOptions {
  readonly entryPoint?: string;
  readonly define?: Readonly<Record<string, string>>;
}

/**
 * The whole agent in one ES module: src/cli/main.ts with its dependencies.
 * CommonJS dependencies (winston, the AWS SDK) call require(), which an ES
 * module lacks, so the banner provides one. Returns the files that went in,
 * relative to the repository (whose npm packages' licences the packages ship).
 */
export async function bundleAgent(outFile: string, version: string, options: BundleOptions = {}): Promise<string[]> {
  const { metafile } = await build({
    absWorkingDir: REPO,
    metafile: true,
    entryPoints: [options.entryPoint ?? `${REPO}src/cli/main.ts`],
    outfile: outFile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    // Error classes name themselves after their constructor (src/core/errors.ts).
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'warning',
    banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
    define: { PACKAGED_ASSET_DIR: JSON.stringify(ASSET_DIR_IN_PACKAGE), ...options.define },
    plugins: [packageVersion(version)],
  });
  return Object.keys(metafile.inputs);
}

/** package.json reaches the bundle as its name and the version being packaged, nothing else. */
function packageVersion(version: string): Plugin {
  return {
    name: 'package-version',
    setup(builder) {
      builder.onLoad({ filter: /package\.json$/ }, (args) =>
        args.path === PACKAGE_JSON_PATH ? { contents: JSON.stringify({ name: PACKAGE_JSON.name, version }), loader: 'json' } : undefined,
      );
    },
  };
}

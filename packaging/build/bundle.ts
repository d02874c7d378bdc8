import { createHash } from 'node:crypto';
import { isBuiltin } from 'node:module';
import { join, relative, resolve } from 'node:path';

import { build, type Plugin } from 'esbuild';

import { PACKAGE_JSON, PACKAGE_JSON_PATH, REPO } from './project.ts';

/** Where the package installs the bundle's companions, relative to its files (see src/core/assets.ts). */
const ASSET_DIR_IN_PACKAGE = './';

/** Another entry bundled exactly as the agent is (the metrics benchmark's sampler loop), with extra constants. */
export interface BundleOptions {
  readonly entryPoint?: string;
  readonly define?: Readonly<Record<string, string>>;
}

/**
 * The require() every file gets, for the built-ins CommonJS dependencies ask for: made at its first call,
 * since most files never call it and making one per file cost `--version` about 1.5 ms of its 10.
 */
const REQUIRE_BANNER =
  "import { createRequire as __bundleCreateRequire } from 'node:module'; let __bundleRequire; " +
  'const require = (id) => (__bundleRequire ??= __bundleCreateRequire(import.meta.url))(id);';

/** The file node runs (`<name>.mjs`); the chunks it imports (chunk-<content hash>.mjs) sit next to it. */
const ENTRY_NAME = 'ecs-host-agent';

export interface Bundle {
  /** The entry module, `outDir`/ecs-host-agent.mjs. */
  readonly entry: string;
  /** Every file written to `outDir`: the entry and its chunks. */
  readonly files: readonly string[];
  /** The files that went in, relative to the repository (whose npm packages' licences the packages ship). */
  readonly inputs: readonly string[];
}

/**
 * The agent as ES modules in `outDir`: src/cli/main.ts with its dependencies,
 * split so that each command's implementation (a dynamic import, see
 * src/cli/commands.ts) and what only it uses are chunks loaded when that
 * command runs. CommonJS dependencies (the AWS SDK) call require(),
 * which an ES module lacks, so the banner provides one in every file.
 */
export async function bundleAgent(outDir: string, version: string, options: BundleOptions = {}): Promise<Bundle> {
  const { metafile } = await build({
    absWorkingDir: REPO,
    metafile: true,
    entryPoints: [{ in: options.entryPoint ?? `${REPO}src/cli/main.ts`, out: ENTRY_NAME }],
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    minify: true,
    // Error classes name themselves after their constructor (src/core/errors.ts).
    keepNames: true,
    legalComments: 'eof',
    logLevel: 'warning',
    banner: { js: REQUIRE_BANNER },
    define: { PACKAGED_ASSET_DIR: JSON.stringify(ASSET_DIR_IN_PACKAGE), ...options.define },
    plugins: [packageVersion(version), builtinsWithoutFacades()],
  });
  const files = Object.keys(metafile.outputs).map((output) => resolve(REPO, output));
  return { entry: join(outDir, `${ENTRY_NAME}.mjs`), files, inputs: Object.keys(metafile.inputs) };
}

/**
 * Node's built-in modules through process.getBuiltinModule rather than an ES
 * import: importing one as an ES module builds a facade that reads every
 * export, which loads what node keeps lazy (node:http's getters load undici:
 * about 40 ms and 14 MB; node:util's lazy properties load node:stream). Each
 * importing file gets a module of its own that reads only the exports that
 * file uses, when that file is evaluated: one module shared by all would read
 * every export any of them uses (fs.ReadStream for one loads fs streams for
 * all). A dynamic import needs a namespace of every export, read in full when
 * that import runs; the agent's own code loads a built-in late with
 * process.getBuiltinModule instead. A require() from a CommonJS dependency
 * needs no facade and is left to the banner's require.
 */
function builtinsWithoutFacades(): Plugin {
  return {
    name: 'builtins-without-facades',
    setup(builder) {
      builder.onResolve({ filter: /^[a-z:_/]+$/ }, (args) => {
        if (args.kind === 'require-call' || !isBuiltin(args.path)) return undefined;
        const name = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
        // The importer as a digest: a path in a virtual module's name would read as a bundled npm package.
        const importer = createHash('sha256').update(relative(REPO, args.importer)).digest('hex').slice(0, 16);
        return {
          path: `${name}|${importer}`,
          namespace: args.kind === 'dynamic-import' ? 'node-builtin-dynamic' : 'node-builtin',
        };
      });
      const load = (args: { path: string }) => ({
        contents: builtinModule(args.path.slice(0, args.path.lastIndexOf('|'))),
        loader: 'js' as const,
      });
      builder.onLoad({ filter: /.*/, namespace: 'node-builtin' }, load);
      builder.onLoad({ filter: /.*/, namespace: 'node-builtin-dynamic' }, load);
    },
  };
}

/** The module as its default export, and each named export a pure read that esbuild drops when nothing imports it. */
function builtinModule(name: string): string {
  const keys = Object.keys(process.getBuiltinModule(name) ?? {}).filter(
    (key) => key !== 'default' && /^[A-Za-z_$][\w$]*$/.test(key),
  );
  return [
    `const builtin = process.getBuiltinModule(${JSON.stringify(name)});`,
    'const read = (key) => builtin[key];',
    'export default builtin;',
    ...keys.map((key, i) => `const e${i} = /* @__PURE__ */ read(${JSON.stringify(key)});\nexport { e${i} as ${key} };`),
  ].join('\n');
}

/** package.json reaches the bundle as its name and the version being packaged, nothing else. */
function packageVersion(version: string): Plugin {
  return {
    name: 'package-version',
    setup(builder) {
      builder.onLoad({ filter: /package\.json$/ }, (args) =>
        args.path === PACKAGE_JSON_PATH
          ? { contents: JSON.stringify({ name: PACKAGE_JSON.name, version }), loader: 'json' }
          : undefined,
      );
    },
  };
}

import { readdirSync, readFileSync } from 'node:fs';

import { PACKAGING } from './project.ts';

/** An npm package esbuild put into the bundle, with the licence texts it ships. */
export interface BundledPackage {
  readonly name: string;
  readonly version: string;
  /** package.json's SPDX expression. */
  readonly license: string;
  /** package.json's author, if it names one. */
  readonly author?: string;
  /** Relative to the repository, e.g. node_modules/logform/node_modules/@colors/colors. */
  readonly dir: string;
  readonly texts: readonly string[];
}

/** Licences whose text names no copyright holder: a package that names one but ships no file gets the standard text. */
const STANDARD_TEXTS: Readonly<Record<string, string>> = { 'Apache-2.0': `${PACKAGING}LICENSE` };

const LICENSE_FILE = /^(?:licen[cs]e|copying|notice)(?:[-_.][\w-]+)?(?:\.(?:md|markdown|txt))?$/i;

/** The innermost node_modules/<name> or node_modules/@scope/<name> of a bundled file. */
const PACKAGE_DIR = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//;

/**
 * The npm packages among the bundle's inputs (esbuild's metafile, paths
 * relative to `root`), sorted by name, each with its licence texts. A
 * package without a licence file whose licence has no standard text stops
 * the build: shipping it would break its licence.
 */
export function bundledPackages(inputs: readonly string[], root: string): BundledPackage[] {
  const dirs = new Set(inputs.map((input) => PACKAGE_DIR.exec(input)?.[1]).filter((dir) => dir !== undefined));
  return [...dirs]
    .map((dir) => bundledPackage(dir, root))
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
}

function bundledPackage(dir: string, root: string): BundledPackage {
  const manifest: unknown = JSON.parse(readFileSync(`${root}${dir}/package.json`, 'utf8'));
  const { name, version, license, author } = (manifest ?? {}) as Record<string, unknown>;
  if (typeof name !== 'string' || typeof version !== 'string')
    throw new Error(`${dir}/package.json: name and version must be strings`);
  if (typeof license !== 'string' || !license.trim())
    throw new Error(`${dir}/package.json (${name}): license ${JSON.stringify(license)} is not an SPDX expression`);
  const files = readdirSync(`${root}${dir}`, { withFileTypes: true })
    .filter((entry) => entry.isFile() && LICENSE_FILE.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const texts = files.map((file) => licenseText(`${root}${dir}/${file}`)).filter((text) => text);
  const found = { name, version, license, dir, ...authorOf(author) };
  if (texts.length > 0) return { ...found, texts };
  const standard = STANDARD_TEXTS[license];
  if (!standard)
    throw new Error(
      `${name}@${version} (${dir}) ships no licence file and ${license} ` +
        `has no standard text: the bundle cannot be shipped without it`,
    );
  return { ...found, texts: [licenseText(standard)] };
}

/** A licence file without the blank lines around it; the indentation of its first line (the Apache title's) stays. */
export function licenseText(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/^\s*\n/, '')
    .trimEnd();
}

/** npm accepts "Name <email> (url)" or { name, email, url }. */
function authorOf(author: unknown): { author?: string } {
  if (typeof author === 'string' && author.trim()) return { author: author.trim() };
  const name = (author as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.trim() ? { author: name.trim() } : {};
}

const RULE = '='.repeat(79);

/** THIRD-PARTY-LICENSES: every bundled package under a heading, its licence texts as shipped. */
export function thirdPartyLicenses(packages: readonly BundledPackage[], bundlePath: string): string {
  const intro =
    `${bundlePath} bundles the following ${packages.length} npm packages.\nEach one's ` +
    `licence follows, as the package ships it.\n`;
  const sections = packages.map(
    (pkg) => `${RULE}\n${pkg.name} ${pkg.version} (${pkg.license})\n${RULE}\n\n${pkg.texts.join('\n\n')}\n`,
  );
  return [intro, ...sections].join('\n');
}

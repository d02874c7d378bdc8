import type { PackageMeta } from './package-meta.ts';
import { type BundledPackage, licenseText } from './third-party.ts';

/** What a Debian copyright file covers besides the agent itself. */
export interface CopyrightSources {
  readonly agentLicense: string;
  /** Installed path of the Node.js binary (no leading slash) and the LICENSE it comes with. */
  readonly node: { readonly path: string; readonly license: string };
  readonly bundlePath: string;
  readonly bundled: readonly BundledPackage[];
}

const FORMAT = 'https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/';

/**
 * A holder line of a licence text, perhaps a list item; the Apache appendix's "[yyyy] [name of copyright owner]"
 * template is none.
 */
const HOLDER_LINE = /^[\s*-]*(?:Copyright\b(?!\s+\[)|\(c\)\s*\d|©).*$/gm;
const HOLDER_PREFIX = /^[\s*-]*(?:Copyright\b\s*)?(?:\(c\)|©)?\s*/i;

/**
 * /usr/share/doc/<package>/copyright in the machine-readable format
 * (DEP-5). Files patterns name the tree the package is built from: the
 * agent (*), the Node.js binary as installed, and each npm package that went
 * into the bundle under its node_modules directory; texts are given in full.
 */
export function debianCopyright(meta: PackageMeta, sources: CopyrightSources): string {
  const header = paragraph([
    ['Format', FORMAT],
    ['Upstream-Name', meta.name],
    ['Upstream-Contact', meta.maintainer],
    ...(meta.homepage ? [['Source', meta.homepage] as const] : []),
    [
      'Comment',
      `The agent and the npm packages below are bundled into ${sources.bundlePath}; ` +
        `${sources.node.path} is the official Node.js binary.`,
    ],
  ]);
  const agent = paragraph([
    ['Files', '*'],
    ['Copyright', 'ecs-host-agent maintainers'],
    ['License', meta.license],
  ]);
  const node = paragraph([
    ['Files', sources.node.path],
    ['Copyright', 'OpenJS Foundation and other contributors; the holders of the components named in the licence text'],
    ['License', `Node.js\n${licenseText(sources.node.license)}`],
  ]);
  const bundled = sources.bundled.map((pkg) =>
    paragraph([
      ['Files', `${pkg.dir}/*`],
      ['Copyright', holders(pkg)],
      ['License', `${shortName(pkg.license)}\n${pkg.texts.join('\n\n')}`],
      ['Comment', `${pkg.name} ${pkg.version}`],
    ]),
  );
  const agentText = paragraph([['License', `${meta.license}\n${licenseText(sources.agentLicense)}`]]);
  return [header, agent, node, ...bundled, agentText].join('\n');
}

function holders(pkg: BundledPackage): string {
  const lines = new Set(
    pkg.texts.flatMap((text) => text.match(HOLDER_LINE) ?? []).map((line) => line.replace(HOLDER_PREFIX, '').trim()),
  );
  if (lines.size > 0) return [...lines].join('\n');
  return pkg.author ?? `the ${pkg.name} authors`;
}

/** DEP-5 writes SPDX's operators in lower case and has no parentheses around a whole expression. */
function shortName(spdx: string): string {
  return spdx
    .trim()
    .replace(/^\((.*)\)$/, '$1')
    .replace(/ (AND|OR|WITH) /g, (operator) => operator.toLowerCase());
}

/** Fields in deb822 syntax: continuation lines start with a space, an empty one is " .". */
function paragraph(fields: readonly (readonly [string, string])[]): string {
  const lines = fields.map(([name, value]) => {
    const [first, ...rest] = value.trimEnd().split('\n');
    return [`${name}: ${first}`, ...rest.map((line) => (line.trim() ? ` ${line.trimEnd()}` : ' .'))].join('\n');
  });
  return `${lines.join('\n')}\n`;
}

/**
 * The licence files the packages ship: which npm packages of the bundle's
 * inputs are found (scoped, nested), their licence texts, the standard text
 * for an Apache-2.0 package without one, a refusal for any other licence
 * without one, THIRD-PARTY-LICENSES and the DEP-5 Debian copyright file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { debianCopyright } from '../../../packaging/build/copyright.ts';
import { packageMeta } from '../../../packaging/build/package-meta.ts';
import { bundledPackages, thirdPartyLicenses } from '../../../packaging/build/third-party.ts';
import { REPO } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';

const APACHE = readFileSync(`${REPO}packaging/LICENSE`, 'utf8');
const MIT_WINSTON =
  'MIT License\n\nCopyright (c) 2010 Charlie Robbins\n\nPermission is hereby granted, free of charge.\n';

function npmPackage(root: string, dir: string, manifest: object, files: Record<string, string> = {}): void {
  mkdirSync(`${root}${dir}/lib`, { recursive: true });
  writeFileSync(`${root}${dir}/package.json`, JSON.stringify(manifest));
  for (const [name, text] of Object.entries(files)) writeFileSync(`${root}${dir}/${name}`, text);
}

function fixture(t: TestContext): { root: string; inputs: string[] } {
  const root = `${scratchDir(t)}/`;
  npmPackage(
    root,
    'node_modules/winston',
    { name: 'winston', version: '3.19.0', license: 'MIT' },
    { LICENSE: MIT_WINSTON, 'license-notes.js': 'not a licence' },
  );
  npmPackage(
    root,
    'node_modules/winston/node_modules/is-stream',
    { name: 'is-stream', version: '2.0.1', license: 'MIT' },
    { 'license.md': 'MIT License\n\nCopyright (c) Sindre Sorhus\n' },
  );
  npmPackage(root, 'node_modules/@aws-sdk/nested-clients', {
    name: '@aws-sdk/nested-clients',
    version: '3.998.3',
    license: 'Apache-2.0',
    author: { name: 'AWS SDK for JavaScript Team' },
  });
  npmPackage(
    root,
    'node_modules/dual',
    { name: 'dual', version: '1.0.0', license: '(MIT OR Apache-2.0)' },
    { 'LICENSE-MIT': 'Copyright 2020 Dual Author\nMIT terms', NOTICE: 'Dual notice' },
  );
  const inputs = [
    'src/cli/main.ts',
    'package.json',
    'node_modules/winston/lib/winston.js',
    'node_modules/winston/lib/logger.js',
    'node_modules/winston/node_modules/is-stream/index.js',
    'node_modules/@aws-sdk/nested-clients/dist-cjs/index.js',
    'node_modules/dual/index.js',
  ];
  return { root, inputs };
}

test(
  'every npm package among the inputs is found once, nested and scoped ones included, with its ' + 'licence files',
  (t) => {
    const { root, inputs } = fixture(t);
    const found = bundledPackages(inputs, root);
    assert.deepEqual(
      found.map((pkg) => [pkg.name, pkg.version, pkg.license, pkg.dir]),
      [
        ['@aws-sdk/nested-clients', '3.998.3', 'Apache-2.0', 'node_modules/@aws-sdk/nested-clients'],
        ['dual', '1.0.0', '(MIT OR Apache-2.0)', 'node_modules/dual'],
        ['is-stream', '2.0.1', 'MIT', 'node_modules/winston/node_modules/is-stream'],
        ['winston', '3.19.0', 'MIT', 'node_modules/winston'],
      ],
    );
    const texts = Object.fromEntries(found.map((pkg) => [pkg.name, pkg.texts]));
    assert.deepEqual(texts.winston, [MIT_WINSTON.trim()], 'license-notes.js is not a licence file');
    assert.deepEqual(
      texts.dual,
      ['Copyright 2020 Dual Author\nMIT terms', 'Dual notice'],
      'LICENSE-MIT and NOTICE both',
    );
    assert.deepEqual(
      texts['@aws-sdk/nested-clients'],
      [APACHE.replace(/^\n/, '').trimEnd()],
      'Apache-2.0 without a file: the standard text',
    );
  },
);

test('a package without a licence file whose licence names its holders stops the build, naming it', (t) => {
  const root = `${scratchDir(t)}/`;
  npmPackage(
    root,
    'node_modules/bare',
    { name: 'bare', version: '0.1.0', license: 'MIT' },
    { 'README.md': 'no licence here' },
  );
  assert.throws(
    () => bundledPackages(['node_modules/bare/index.js'], root),
    /^Error: bare@0\.1\.0 \(node_modules\/bare\) ships no licence file and MIT has no standard text/,
  );
});

test('a package.json without a licence is refused, naming the package and the value', (t) => {
  const root = `${scratchDir(t)}/`;
  npmPackage(
    root,
    'node_modules/vague',
    { name: 'vague', version: '0.1.0', licenses: [{ type: 'MIT' }] },
    { LICENSE: 'text' },
  );
  assert.throws(
    () => bundledPackages(['node_modules/vague/index.js'], root),
    /node_modules\/vague\/package\.json \(vague\): license undefined is not an SPDX expression/,
  );
});

test('THIRD-PARTY-LICENSES heads each package with its name, version and licence, followed by its texts', (t) => {
  const { root, inputs } = fixture(t);
  const text = thirdPartyLicenses(bundledPackages(inputs, root), '/usr/lib/ecs-host-agent/ecs-host-agent.mjs');
  assert.match(text, /^\/usr\/lib\/ecs-host-agent\/ecs-host-agent\.mjs bundles the following 4 npm packages\./);
  assert.match(text, /\nwinston 3\.19\.0 \(MIT\)\n={79}\n\nMIT License\n\nCopyright \(c\) 2010 Charlie Robbins\n/);
  assert.match(text, /\n@aws-sdk\/nested-clients 3\.998\.3 \(Apache-2\.0\)\n={79}\n\n\s+Apache License\n/);
});

test(
  'the Debian copyright file is DEP-5: a Files paragraph for the agent, Node.js and each package, ' +
    'texts as continuation lines',
  (t) => {
    const { root, inputs } = fixture(t);
    const dir = scratchDir(t);
    writeFileSync(
      `${dir}/NODE-LICENSE`,
      'Node.js is licensed for use as follows:\n\n"""\nCopyright Node.js contributors.\n"""\n',
    );
    const copyright = debianCopyright(packageMeta('1.2.3'), {
      agentLicense: `${REPO}packaging/LICENSE`,
      node: { path: 'usr/lib/ecs-host-agent/node', license: `${dir}/NODE-LICENSE` },
      bundlePath: 'usr/lib/ecs-host-agent/ecs-host-agent.mjs',
      bundled: bundledPackages(inputs, root),
    });
    const paragraphs = copyright.split('\n\n');
    const format = String.raw`https://www\.debian\.org/doc/packaging-manuals/copyright-format/1\.0/`;
    assert.match(paragraphs[0] ?? '', new RegExp(String.raw`^Format: ${format}\nUpstream-Name: ecs-host-agent\n`));
    assert.equal(paragraphs[1], 'Files: *\nCopyright: ecs-host-agent maintainers\nLicense: Apache-2.0');
    assert.equal(
      paragraphs[2],
      'Files: usr/lib/ecs-host-agent/node\nCopyright: OpenJS Foundation and other contributors; the ' +
        'holders of the components named in the licence text\nLicense: Node.js\n Node.js is licensed ' +
        'for use as follows:\n .\n """\n Copyright Node.js contributors.\n """',
    );
    assert.ok(
      paragraphs.includes(
        'Files: node_modules/winston/*\nCopyright: 2010 Charlie Robbins\nLicense: ' +
          'MIT\n MIT License\n .\n Copyright (c) 2010 Charlie Robbins\n .\n Permission is hereby ' +
          'granted, free of charge.\nComment: winston 3.19.0',
      ),
      copyright,
    );
    assert.match(
      copyright,
      /\nFiles: node_modules\/dual\/\*\nCopyright: 2020 Dual Author\nLicense: MIT or Apache-2\.0\n/,
      'SPDX operators in lower case, no outer parentheses',
    );
    const nestedClients =
      String.raw`\nFiles: node_modules/@aws-sdk/nested-clients/\*\n` + 'Copyright: AWS SDK for JavaScript Team\n';
    assert.match(
      copyright,
      new RegExp(nestedClients + String.raw`License: Apache-2\.0\n {2,}Apache License\n`),
      'no holder line: the author',
    );
    assert.match(
      paragraphs.at(-1) ?? '',
      /^License: Apache-2\.0\n {2,}Apache License\n/,
      'the standalone text of the agent licence',
    );
    for (const line of copyright.trimEnd().split('\n')) {
      assert.match(
        line,
        /^(?:[A-Z][A-Za-z-]*: .*| .+|)$/,
        `a field, a continuation line or a paragraph break: ${JSON.stringify(line)}`,
      );
    }
  },
);

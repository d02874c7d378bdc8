/**
 * The AWS SDK stays behind src/aws/: no other file imports it (a value, a type, a re-export or a dynamic import),
 * so every AWS call goes through a port there and Host.http. And a module that loads the SDK is reached only by a
 * dynamic import, so the SDK loads when a call needs it, never with the module that merely holds a port.
 */
import assert from 'node:assert/strict';
import { dirname, relative, resolve } from 'node:path';
import { test } from 'node:test';

import { importsOf, SRC, sourceFiles, sourceImports } from '../../support/imports.ts';

/** The SDK's packages: the clients and credentials (@aws-sdk) and what they are built on (@smithy). */
const SDK = /^@(aws-sdk|smithy)\//;

const files = sourceFiles();
const imports = sourceImports();

test('only src/aws/ imports the AWS SDK', () => {
  const sdkImports = (file: string) => (imports.get(file) ?? []).filter((i) => SDK.test(i.specifier));
  const outside = files
    .filter((file) => !file.startsWith('aws/'))
    .flatMap((file) => sdkImports(file).map((i) => `src/${file}: ${i.specifier}`));
  assert.deepEqual(outside, []);
  const inside = files.filter((file) => sdkImports(file).length > 0);
  assert.ok(inside.includes('aws/ecs-sdk.ts') && inside.includes('aws/ssm-sdk.ts'), `the SDK is imported: ${inside}`);
});

test('a module that loads the SDK is only ever imported dynamically', () => {
  const loadsSdk = (file: string) => (imports.get(file) ?? []).some((i) => i.value && SDK.test(i.specifier));
  const loaders = new Set(files.filter(loadsSdk));
  assert.deepEqual(
    [...loaders],
    ['aws/aps-signer.ts', 'aws/cloudwatch-sdk.ts', 'aws/ecs-sdk.ts', 'aws/ssm-sdk.ts'],
    'the modules that hold an SDK client',
  );
  const staticImports = files.flatMap((file) =>
    (imports.get(file) ?? [])
      .filter((i) => i.value && i.specifier.startsWith('.'))
      .map((i) => relative(SRC, resolve(SRC, dirname(file), i.specifier)))
      .filter((target) => loaders.has(target))
      .map((target) => `src/${file} imports src/${target}`),
  );
  assert.deepEqual(staticImports, []);
});

test('the import reader tells every kind of import apart', () => {
  const text = [
    "import { A } from '@aws-sdk/a';",
    "import type { B } from '@aws-sdk/b';",
    "import { type C, type D } from '@aws-sdk/c';",
    "import { type E, F } from '@aws-sdk/e';",
    "import * as G from '@smithy/g';",
    "import '@aws-sdk/side-effect';",
    "export { H } from '@aws-sdk/h';",
    "export type { I } from '@aws-sdk/i';",
    "export * from '@aws-sdk/star';",
    "const j = () => import('./j.ts');",
    "type K = import('@aws-sdk/k').K;",
    "// import { L } from '@aws-sdk/in-a-comment';",
    'const m = "import { M } from \'@aws-sdk/in-a-string\'";',
  ].join('\n');
  assert.deepEqual(
    importsOf(text).map((i) => `${i.specifier} ${i.value ? 'value' : i.dynamic ? 'dynamic' : 'type'}`),
    [
      '@aws-sdk/a value',
      '@aws-sdk/b type',
      '@aws-sdk/c type',
      '@aws-sdk/e value',
      '@smithy/g value',
      '@aws-sdk/side-effect value',
      '@aws-sdk/h value',
      '@aws-sdk/i type',
      '@aws-sdk/star value',
      './j.ts dynamic',
      '@aws-sdk/k type',
    ],
  );
});

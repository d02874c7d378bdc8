/**
 * The AWS SDK stays behind src/aws/: no other file imports it (a value, a type, a re-export or a dynamic import),
 * so every AWS call goes through a port there and Host.http. And a module that loads the SDK is reached only by a
 * dynamic import, so the SDK loads when a call needs it, never with the module that merely holds a port.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
/** The SDK's packages: the clients and credentials (@aws-sdk) and what they are built on (@smithy). */
const SDK = /^@(aws-sdk|smithy)\//;

interface Import {
  readonly specifier: string;
  /** Loads the module when the importing one loads: not `import type`, not only types, not a dynamic import. */
  readonly value: boolean;
  readonly dynamic: boolean;
}

function importsOf(text: string, fileName = 'file.ts'): Import[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const imports: Import[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      const specifier = (node.moduleSpecifier as ts.StringLiteral).text;
      imports.push({ specifier, value: !typeOnly(node), dynamic: false });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      const specifier = argument && ts.isStringLiteralLike(argument) ? argument.text : '?';
      imports.push({ specifier, value: false, dynamic: true });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const { literal } = node.argument;
      if (ts.isStringLiteral(literal)) imports.push({ specifier: literal.text, value: false, dynamic: false });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return imports;
}

/** `import type`, `export type … from`, or named bindings that are all `type`. */
function typeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    const clause = node.exportClause;
    if (node.isTypeOnly) return true;
    return clause !== undefined && ts.isNamedExports(clause) && clause.elements.every((element) => element.isTypeOnly);
  }
  const clause = node.importClause;
  if (clause === undefined) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return clause.name === undefined && bindings !== undefined && ts.isNamedImports(bindings) &&
    bindings.elements.every((element) => element.isTypeOnly);
}

const files = (readdirSync(SRC, { recursive: true }) as string[]).filter((name) => name.endsWith('.ts')).sort();
const imports = new Map(files.map((file) => [file, importsOf(readFileSync(join(SRC, file), 'utf8'), file)]));

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
    "const m = \"import { M } from '@aws-sdk/in-a-string'\";",
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

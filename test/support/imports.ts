/**
 * The imports of the agent's source files, read with the TypeScript parser (so an import in a comment or a string
 * is not one): every static import and re-export, `import type`, a dynamic `import(…)` and an `import('…')` type.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import ts from 'typescript';

export const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

export interface Import {
  readonly specifier: string;
  /** Loads the module when the importing one loads: not `import type`, not only types, not a dynamic import. */
  readonly value: boolean;
  readonly dynamic: boolean;
}

export function importsOf(text: string, fileName = 'file.ts'): Import[] {
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
  return (
    clause.name === undefined &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/** Every .ts file under src/, as a path relative to it ("core/errors.ts"), sorted. */
export function sourceFiles(): string[] {
  return (readdirSync(SRC, { recursive: true }) as string[]).filter((name) => name.endsWith('.ts')).sort();
}

/** The imports of each file under src/. */
export function sourceImports(): Map<string, Import[]> {
  return new Map(sourceFiles().map((file) => [file, importsOf(readFileSync(join(SRC, file), 'utf8'), file)]));
}

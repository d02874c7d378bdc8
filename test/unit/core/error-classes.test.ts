/**
 * An error class earns its name: something catches it by class (instanceof), it maps to an exit code of its own,
 * other classes extend it, or a test asserts it by class or by name. One that is only ever thrown is an AgentError
 * (or an Error) with its message, so the CLI, the logs and the exit code read the same without it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLASS = /\bclass (\w+) extends (\w*Error)\b[^{]*\{/g;

function textsUnder(folder: string): Map<string, string> {
  const names = (readdirSync(join(ROOT, folder), { recursive: true }) as string[]).filter((n) => n.endsWith('.ts'));
  return new Map(names.map((name) => [`${folder}/${name}`, readFileSync(join(ROOT, folder, name), 'utf8')]));
}

const source = [...textsUnder('src').values()].join('\n');
const tests = [...textsUnder('test').values()].join('\n');

/** The body of the class declared at `start` (the index of its opening brace), braces balanced. */
function bodyAt(text: string, start: number): string {
  let depth = 0;
  for (let index = start; index < text.length; index += 1) {
    if (text[index] === '{') depth += 1;
    if (text[index] === '}' && --depth === 0) return text.slice(start, index + 1);
  }
  return text.slice(start);
}

/** Why the class is kept, or null when nothing but its throws names it. */
function keptBecause(name: string, body: string): string | null {
  const reasons: Array<[string, RegExp, string]> = [
    ['caught by class', new RegExp(`instanceof ${name}\\b`), source + tests],
    ['an exit code of its own', /\bexitCode\b/, body],
    ['extended', new RegExp(`\\bextends ${name}\\b`), source],
    ['asserted by class', new RegExp(`\\b(rejects|throws)\\([^;]*,\\s*${name}\\s*\\)`), tests],
    ['asserted by name', new RegExp(`name: '${name}'|\\^${name}:`), tests],
  ];
  const found = reasons.find(([, pattern, text]) => pattern.test(text));
  return found?.[0] ?? null;
}

test('every error class of src/ is caught, maps to an exit code, is extended or is asserted by a test', () => {
  const classes = [...textsUnder('src')].flatMap(([file, text]) =>
    [...text.matchAll(CLASS)].map((match) => {
      const body = bodyAt(text, match.index + match[0].length - 1);
      return { file, name: match[1]!, body };
    }),
  );
  assert.ok(
    classes.some((c) => c.name === 'ConfigError'),
    'the classes are found',
  );
  const unearned = classes.filter((c) => keptBecause(c.name, c.body) === null).map((c) => `${c.file}: ${c.name}`);
  assert.deepEqual(unearned, []);
});

test('a class only thrown is told apart from one that is caught', () => {
  assert.equal(keptBecause('NoSuchThrownOnlyError', '{}'), null);
  assert.equal(keptBecause('ConfigError', '{ override readonly exitCode = ExitCode.config; }'), 'caught by class');
  assert.equal(keptBecause('UsageError', '{}'), 'caught by class');
  assert.equal(keptBecause('AlreadyRunning', '{}'), 'asserted by name');
});

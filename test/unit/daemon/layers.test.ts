/**
 * The daemon sits above what it schedules: a job, the clock and the Job interface live below it (src/core and
 * each job's own folder), so nothing outside src/daemon imports from it but the CLI that starts it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));
const DAEMON = resolve(SRC, 'daemon');
/** Static imports and re-exports (`from '…'`) and dynamic ones (`import('…')`). */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*)['"](\.[^'"]+)['"]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.ts'))
    .map((name) => resolve(dir, name));
}

test('nothing below the daemon imports from src/daemon (only src/cli, which starts it)', () => {
  const above = new Set([DAEMON, resolve(SRC, 'cli')]);
  const arrows = sourceFiles(SRC)
    .filter((file) => ![...above].some((dir) => file.startsWith(`${dir}/`)))
    .flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(SPECIFIER)]
        .map((match) => resolve(dirname(file), match[1] as string))
        .filter((target) => target.startsWith(`${DAEMON}/`))
        .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`),
    );
  assert.deepEqual(arrows, []);
  assert.ok(sourceFiles(SRC).length > 100, 'the files were found');
});

/**
 * Lines of at most 120 characters in every TypeScript file the repository tracks. Prettier (`npm run format`,
 * checked by `npm test`) wraps code at that width but leaves long strings, patterns and comments as they are;
 * this test catches those.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAX = 120;

test(`no line of a tracked TypeScript file is longer than ${MAX} characters`, () => {
  const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  assert.ok(files.length > 100, `git ls-files found ${files.length} TypeScript files`);
  const long = files.flatMap((file) =>
    readFileSync(`${REPO}${file}`, 'utf8')
      .split('\n')
      .flatMap((line, index) => ([...line].length > MAX ? [`${file}:${index + 1} (${[...line].length})`] : [])),
  );
  assert.deepEqual(long, []);
});

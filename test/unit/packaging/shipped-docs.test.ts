import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { test } from 'node:test';

import { documentation } from '../../../packaging/build/payload.ts';
import { REPO } from '../../../packaging/build/project.ts';

test('the package ships every document the README links to, so its links work where it is installed', () => {
  const shipped = documentation();
  assert.ok(shipped.includes('README.md') && shipped.includes('docs/architecture.md'), shipped.join(', '));
  const unshipped = shipped.flatMap((document) =>
    [...readFileSync(`${REPO}${document}`, 'utf8').matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)]
      .map(([, link]) => link as string)
      .filter((link) => !/^[a-z]+:/.test(link))
      .map((link) => normalize(join(dirname(document), link)))
      .filter((target) => !shipped.includes(target))
      .map((target) => `${document} → ${target}`),
  );
  assert.deepEqual(unshipped, []);
});

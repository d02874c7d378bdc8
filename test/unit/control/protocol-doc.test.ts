import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { PROTOCOL_SCHEMAS } from '../../../src/control/schemas.ts';

test('PROTOCOL.md shows exactly the schemas the code validates with', () => {
  const doc = readFileSync(new URL('../../../src/control/PROTOCOL.md', import.meta.url), 'utf8');
  const shown = Object.fromEntries(
    [...doc.matchAll(/^### Schema: (\w+)\n\n```json\n([\s\S]*?)\n```$/gm)].map((m) => [
      m[1],
      JSON.parse(m[2] as string),
    ]),
  );
  assert.deepEqual(
    shown,
    JSON.parse(JSON.stringify(PROTOCOL_SCHEMAS)),
    'regenerate the schema sections of src/control/PROTOCOL.md from src/control/schemas.ts',
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseJson } from '../../../src/core/json.ts';

test('parseJson parses JSON; text that is not JSON is undefined, or whatever the caller says', () => {
  assert.deepEqual(parseJson('{"a":[1,null]}'), { a: [1, null] });
  assert.equal(parseJson('null'), null);
  assert.equal(parseJson('{"a":'), undefined);
  assert.equal(
    parseJson('', () => 'stand-in'),
    'stand-in',
  );
  assert.throws(
    () =>
      parseJson('{secret}', (reason) => {
        throw new Error(`not JSON: ${reason}`);
      }),
    /^Error: not JSON: .*JSON/,
    "the reason is JSON.parse's own",
  );
});

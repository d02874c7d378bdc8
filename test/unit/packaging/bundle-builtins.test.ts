/**
 * The bundle reaches Node's built-in modules through process.getBuiltinModule
 * (packaging/build/bundle.ts): every way the sources import one must still get
 * the real module and its real exports, named, default, namespace and dynamic,
 * with and without the node: prefix.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { bundleAgent } from '../../../packaging/build/bundle.ts';
import { scratchDir } from '../../support/scratch.ts';

const ENTRY = `
import { parseArgs } from 'node:util';
import fs from 'node:fs';
import * as path from 'path';
import { request } from 'http';
const builtin = (name) => process.getBuiltinModule(name);
const checks = {
  named: parseArgs === builtin('node:util').parseArgs,
  default: fs === builtin('node:fs'),
  namespace: path.join === builtin('node:path').join && path.default === builtin('node:path'),
  unprefixed: request === builtin('node:http').request,
  dynamic: (await import('node:os')).hostname === builtin('node:os').hostname,
  dynamicOfStatic: (await import('node:util')).parseArgs === parseArgs,
  works: parseArgs({ args: ['--x'], options: { x: { type: 'boolean' } } }).values.x === true,
};
console.log(JSON.stringify(checks));
// Never run: a dynamic import elsewhere must not make the static import read every export.
export async function later() {
  return (await import('node:http')).WebSocket;
}
`;

test('built-in modules in the bundle: the real modules and exports, however they are imported', async (t) => {
  const dir = scratchDir(t);
  writeFileSync(`${dir}/entry.mjs`, ENTRY);
  const { entry, files } = await bundleAgent(`${dir}/out`, '0.0.0-test', { entryPoint: `${dir}/entry.mjs` });
  const result = spawnSync(process.execPath, [entry], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const checks = JSON.parse(result.stdout) as Record<string, boolean>;
  assert.deepEqual(checks, {
    named: true,
    default: true,
    namespace: true,
    unprefixed: true,
    dynamic: true,
    dynamicOfStatic: true,
    works: true,
  });
  const code = files.map((file) => readFileSync(file, 'utf8')).join('\n');
  assert.doesNotMatch(code, /from\s*["']node:(util|fs|path|http|os)["']/, 'no built-in is imported as an ES module');
  assert.doesNotMatch(code, /read\("setTraceSigInt"\)/, 'exports nothing imports are not read');
  const loaded = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `await import(${JSON.stringify(entry)}); console.log(process.moduleLoadList.join())`],
    { encoding: 'utf8' },
  );
  assert.doesNotMatch(
    loaded.stdout,
    /undici/,
    "importing node:http statically does not load undici (fetch's implementation)",
  );
});

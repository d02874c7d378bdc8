/**
 * `npm run bench`: every test/bench/*.bench.ts in turn, each printing its own
 * figures. Benchmarks measure; they never decide pass or fail.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
const files = readdirSync(dir).filter((name) => name.endsWith('.bench.ts') && (!only || name.startsWith(only))).sort();
if (files.length === 0) throw new Error(`no benchmark matches ${only ?? '*'} in ${dir}`);
for (const file of files) {
  console.log(`\n== ${file}`);
  execFileSync(process.execPath, [`${dir}${file}`], { stdio: 'inherit' });
}

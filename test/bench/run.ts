/**
 * `npm run bench [-- PREFIX]`: every test/bench/*.bench.ts (or those whose
 * name starts with PREFIX) in turn, each printing its own figures, then one
 * table of every figure reported in this run (figures.ts): each a ratio to
 * its reference measured in the same run, as docs/benchmarks.md quotes them.
 * Benchmarks measure; they never decide pass or fail.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  type Figure,
  formatNumber,
  machineDescription,
  ratioOf,
  readFigures,
  requireProjectRuntime,
  goalOf,
  verdictOf,
} from './figures.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv[2];
const files = readdirSync(dir)
  .filter((name) => name.endsWith('.bench.ts') && (!only || name.startsWith(only)))
  .sort();
if (files.length === 0) throw new Error(`no benchmark matches ${only ?? '*'} in ${dir}`);
requireProjectRuntime();

function row(figure: Figure): string {
  const ratio = ratioOf(figure);
  const measured =
    `${formatNumber(figure.value)} ${figure.unit} ÷ ` +
    `${formatNumber(figure.reference.value)} ${figure.unit} (${figure.reference.name})`;
  const pairing = figure.ratio === undefined ? '' : ' (median run by run)';
  return `| ${figure.name} | ${measured} | ${ratio.toFixed(2)}${pairing} | ${goalOf(figure)} | ${verdictOf(figure)} |`;
}

const work = mkdtempSync(join(tmpdir(), 'eha-bench-'));
try {
  const silent: string[] = [];
  for (const file of files) {
    const figuresFile = join(work, `${file}.ndjson`);
    console.log(`\n== ${file}`);
    execFileSync(process.execPath, [`${dir}${file}`], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_FIGURES_FILE: figuresFile },
    });
    if (readFigures(figuresFile).length === 0) silent.push(file);
  }
  const figures = files.flatMap((file) => readFigures(join(work, `${file}.ndjson`)));
  console.log(`\n== figures of this run: ${new Date().toISOString().slice(0, 10)}, ${machineDescription()}\n`);
  console.log('| figure | measured | ratio | goal | |');
  console.log('|---|---|---|---|---|');
  for (const figure of figures) console.log(row(figure));
  for (const file of silent) console.log(`\n${file} reported no figure to this table: see its own output above.`);
} finally {
  rmSync(work, { recursive: true, force: true });
}

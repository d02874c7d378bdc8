import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { CLOUDWATCH_METRICS } from '../../../src/control/sinks/cloudwatch/metrics.ts';
import { REPO } from '../../support/paths.ts';

const readme = readFileSync(`${REPO}README.md`, 'utf8');

function between(start: string, end: string): string {
  const from = readme.indexOf(start);
  const to = readme.indexOf(end, from);
  assert.ok(from >= 0 && to > from, `the README has ${start} … ${end}`);
  return readme.slice(readme.indexOf('\n', from) + 1, to).trim();
}

test("the README's CloudWatch table is the metrics the sink publishes, in their units", () => {
  const rows = CLOUDWATCH_METRICS.map(
    (m) => `| \`${m.name}\` | ${m.unit} | ${m.meaning} | ${m.perMount ? 'mount (`MountPath`)' : 'instance'} |`,
  );
  const table = ['| metric | unit | what | one per |', '|---|---|---|---|', ...rows].join('\n');
  assert.equal(
    between('<!-- cloudwatch-metrics', '<!-- end cloudwatch-metrics -->'),
    table,
    'regenerate the table from metrics.ts',
  );
});

test("the README's cost counts the metrics the sink publishes", () => {
  const perInstance = CLOUDWATCH_METRICS.filter((m) => !m.perMount).length;
  const perMount = CLOUDWATCH_METRICS.filter((m) => m.perMount).length;
  const counted = /<!-- cloudwatch-cost -->([\s\S]*?)<!-- end cloudwatch-cost -->/
    .exec(readme)?.[1]
    ?.replace(/\s+/g, ' ');
  assert.equal(counted, `${perInstance} metrics per instance and ${perMount} per mount`);
  const twoMounts = perInstance + 2 * perMount;
  assert.match(readme, new RegExp(`so ${twoMounts} on a host with two mounts`));
  const monthly = twoMounts * 0.3 + (730 * 60 * 0.01) / 1000;
  assert.match(readme, new RegExp(`about \\$${monthly.toFixed(2)} per host per month`));
});

/**
 * Cold start of the packaged bundle (packaging/build/bundle.ts, run with
 * packaging/wrapper.sh's V8 flags): `--version` and `detect --json` against a
 * bare `node -e 0` of the same runtime with the same flags. The three are run
 * in turn, RUNS times, and each run's command is divided by the bare node just
 * before it: load from elsewhere on a shared machine comes and goes, and a pair
 * taken within milliseconds sees the same. The figure is the median of those
 * ratios; wall times are direct spawns, peak RSS the median of /usr/bin/time
 * runs. detect runs with every endpoint on a dead loopback port.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import {
  ensureDebianPackage,
  loopbackEnv,
  median,
  range,
  reportFigure,
  requireProjectRuntime,
  TIME,
  V8_FLAGS,
} from './figures.ts';

const RUNS = 31;
const RSS_RUNS = 7;

interface Subject {
  readonly name: string;
  readonly argv: readonly string[];
  readonly wallMs: number[];
  readonly peakMb: number[];
}

function wallMs(subject: Subject, env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [...V8_FLAGS, ...subject.argv], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  // detect exits 3 on a system it refuses: still a complete run.
  if (result.status !== 0 && result.status !== 3)
    throw new Error(`${subject.name} exited ${result.status}: ${result.stderr}`);
  return elapsed;
}

function peakMb(subject: Subject, env: NodeJS.ProcessEnv): number {
  const argv = ['-f', '%M', process.execPath, ...V8_FLAGS, ...subject.argv];
  const result = spawnSync(TIME, argv, { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  return Number(result.stderr.trim().split('\n').at(-1)) / 1024;
}

requireProjectRuntime();
ensureDebianPackage('time', TIME);
const work = mkdtempSync(join(tmpdir(), 'eha-bench-startup-'));
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  const env = loopbackEnv();
  const subject = (name: string, argv: readonly string[]): Subject => ({ name, argv, wallMs: [], peakMb: [] });
  const bare = subject('bare node -e 0', ['-e', '0']);
  const version = subject('--version', [bundle, '--version']);
  const detect = subject('detect --json', [bundle, 'detect', '--json']);
  const subjects = [bare, version, detect];
  for (const s of subjects) wallMs(s, env); // warm the page cache
  for (let run = 0; run < RUNS; run++) {
    for (const s of subjects) s.wallMs.push(wallMs(s, env));
    if (run < RSS_RUNS) for (const s of subjects) s.peakMb.push(peakMb(s, env));
  }
  console.log(
    `cold start of the bundle, Node ${process.versions.node} ${V8_FLAGS.join(' ')}: median ` +
      `of ${RUNS} runs in turn (min-max)`,
  );
  for (const s of subjects) {
    console.log(
      `  ${s.name.padEnd(16)} ${median(s.wallMs).toFixed(0).padStart(5)} ms ` +
        `(${range(s.wallMs)})  peak RSS ${median(s.peakMb).toFixed(0)} MB (${range(s.peakMb)})`,
    );
  }
  const reference = { name: 'bare node -e 0', value: median(bare.wallMs) };
  const ratio = (s: Subject) => median(s.wallMs.map((ms, run) => ms / (bare.wallMs[run] as number)));
  const note = (s: Subject) =>
    `fastest runs ${Math.min(...s.wallMs).toFixed(0)} ÷ ${Math.min(...bare.wallMs).toFixed(0)} ms; ` +
    `peak RSS ${median(s.peakMb).toFixed(0)} MB against ${median(bare.peakMb).toFixed(0)} MB bare`;
  const figure = (s: Subject, name: string, goal: number) =>
    reportFigure({ name, value: median(s.wallMs), unit: 'ms', reference, goal, ratio: ratio(s), note: note(s) });
  figure(detect, '`detect` ÷ bare `node -e 0` (wall)', 3);
  figure(version, '`--version` ÷ bare `node -e 0` (wall)', 1.2);
} finally {
  rmSync(work, { recursive: true, force: true });
}

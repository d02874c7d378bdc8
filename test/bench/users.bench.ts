/**
 * `npm run bench:users`: a sync of 1,000 users from scratch and a no-op re-sync of the same 1,000, each as a CLI
 * process as operators run it (`users sync --root DIR` of the bundle as packaged, with packaging/wrapper.sh's V8
 * flags), with the real account tools on a scratch root (file source), beside the floor measured in the same run
 * on an identical root: the system's own batch tool (`newusers --root`, the same lines the agent gives it) for the
 * accounts and homes, then one process writing every authorized_keys (plain writes, no fsync). The no-op runs take
 * turns with a bare `node -e 0` of the same runtime and flags, each divided by the bare run just before it. Prints
 * wall and CPU times (user+system, children included; /usr/bin/time counts in hundredths of a second), peak RSS
 * (`/usr/bin/time -f %M`), the ratios and the absolute goals. Figures only: it never fails on them.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import { CLI } from '../support/paths.ts';
import { requireRoot } from '../support/scratch.ts';
import { fillAccountsRoot, newKeyPair } from '../integration/users/users-root.ts';
import {
  ensureDebianPackage,
  loopbackEnv,
  median,
  reportFigure,
  requireProjectRuntime,
  TIME,
  V8_FLAGS,
} from './figures.ts';

const USERS = 1000;
const RUNS = 3;
const NOOP_RUNS = 11;
const SOURCE_NOOP_RUNS = 3;
const FIRST_UID = 1000;
/** The goals, absolute: a no-op re-sync of 1,000 as a CLI process, and peak RSS from scratch. */
const NOOP_GOAL_SECONDS = 0.5;
const PEAK_RSS_GOAL_MB = 150;
/** The from-scratch sync against the floor (wall): at most this many times it. */
const FLOOR_GOAL = 5;
const ENV = {
  ...loopbackEnv(),
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  USERS_SOURCE: 'file:/users.json',
  USERS_ALLOWED_GROUPS: 'users',
};

requireProjectRuntime();
requireRoot();
ensureDebianPackage('time', TIME);

interface Run {
  readonly seconds: number;
  /** User and system CPU time, the process's and its children's. */
  readonly cpu: number;
  readonly peakMb: number;
}

/** One process under /usr/bin/time: wall seconds as this process sees them, CPU and peak RSS as time reports. */
function timed(argv: readonly string[]): Run {
  const started = performance.now();
  const result = spawnSync(TIME, ['-f', '%U %S %M', ...argv], { env: ENV, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0)
    throw new Error(
      `${argv.join(' ')} exited ${result.status}: ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`,
    );
  const [user, system, peakKb] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds, cpu: (user as number) + (system as number), peakMb: (peakKb as number) / 1024 };
}

/** `users sync` as operators run it: the bundle with the wrapper's V8 flags (from the sources: types stripped). */
const sync = (entry: string, root: string): Run =>
  timed([
    process.execPath,
    ...(entry === CLI ? [] : V8_FLAGS),
    entry,
    'users',
    'sync',
    '--root',
    root,
    '--config',
    '/dev/null',
  ]);
const bareNode = (): Run => timed([process.execPath, ...V8_FLAGS, '-e', '0']);

function newRoot(work: string, label: string, key: string): string {
  const root = mkdtempSync(join(work, `${label}-`));
  fillAccountsRoot(root);
  const document = Object.fromEntries(
    Array.from({ length: USERS }, (_, i) => [
      `user${i}`,
      { sshPublicKeys: [key], sudo: i % 10 === 0, ...(i % 4 === 0 ? { groups: ['users'] } : {}) },
    ]),
  );
  writeFileSync(`${root}/users.json`, JSON.stringify(document));
  return root;
}

/** newusers with the agent's own lines, then every authorized_keys written by this process. */
function floor(root: string, key: string): Run {
  const lines = Array.from(
    { length: USERS },
    (_, i) => `user${i}::${FIRST_UID + i}::managed by ecs-host-agent:/home/user${i}:/bin/bash\n`,
  ).join('');
  const start = performance.now();
  // Exit status 1 after writing the accounts: its PAM step cannot set the empty password (as for the agent).
  const tool = spawnSync(TIME, ['-f', '%U %S', 'newusers', '--root', root], { input: lines, encoding: 'utf8' });
  const [user, system] = (tool.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  const before = process.cpuUsage();
  for (let i = 0; i < USERS; i++) {
    const ssh = `${root}/home/user${i}/.ssh`;
    mkdirSync(ssh, { mode: 0o700 });
    writeFileSync(`${ssh}/authorized_keys`, `${key}\n`, { mode: 0o600 });
    chownSync(`${ssh}/authorized_keys`, FIRST_UID + i, FIRST_UID + i);
    chownSync(ssh, FIRST_UID + i, FIRST_UID + i);
  }
  const writer = process.cpuUsage(before);
  const cpu = (user as number) + (system as number) + (writer.user + writer.system) / 1e6;
  return { seconds: (performance.now() - start) / 1000, cpu, peakMb: 0 };
}

interface Measured {
  readonly floors: readonly Run[];
  readonly scratch: readonly Run[];
  /** Taken in turn: bares[i] just before noops[i]. */
  readonly bares: readonly Run[];
  readonly noops: readonly Run[];
  readonly sourceNoops: readonly Run[];
}

const work = mkdtempSync(join(tmpdir(), 'eha-users-bench-'));
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  const key = newKeyPair(work, 'bench').publicLine;
  const measured = { floors: [], scratch: [], bares: [], noops: [], sourceNoops: [] } as {
    [K in keyof Measured]: Run[];
  };
  for (let run = 0; run < RUNS; run++) {
    const floorRoot = newRoot(work, 'floor', key);
    measured.floors.push(floor(floorRoot, key));
    rmSync(floorRoot, { recursive: true, force: true });
    const root = newRoot(work, 'agent', key);
    measured.scratch.push(sync(bundle, root));
    if (run === RUNS - 1) {
      for (let i = 0; i < NOOP_RUNS; i++) {
        measured.bares.push(bareNode());
        measured.noops.push(sync(bundle, root));
      }
      for (let i = 0; i < SOURCE_NOOP_RUNS; i++) measured.sourceNoops.push(sync(CLI, root));
    }
    rmSync(root, { recursive: true, force: true });
  }
  report(measured);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function report({ floors, scratch, bares, noops, sourceNoops }: Measured): void {
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  const peak = (runs: readonly Run[]) => Math.max(...runs.map((r) => r.peakMb));
  const wall = (runs: readonly Run[]) => median(runs.map((r) => r.seconds));
  const cpu = (runs: readonly Run[]) => median(runs.map((r) => r.cpu));
  const times = (runs: readonly Run[]) =>
    `${s(wall(runs))} (${runs.map((r) => s(r.seconds)).join(', ')}), CPU ${s(cpu(runs))}`;
  const met = (value: number, goal: number) => (value <= goal ? 'met' : 'not met');
  const noopRatio = median(noops.map((run, i) => run.seconds / (bares[i] as Run).seconds));
  const scratchRatio = median(scratch.map((run, i) => run.seconds / (floors[i] as Run).seconds));
  const lines = [
    `users sync of ${USERS} users, scratch root, real account tools, node ${process.versions.node} ` +
      `${V8_FLAGS.join(' ')}`,
    `wall time (median; each run) and user+system CPU time, children included`,
    `floor, newusers --root + one process writing every authorized_keys: ${times(floors)}`,
    `from scratch, CLI from the bundle: ${times(scratch)}, peak RSS ${peak(scratch).toFixed(0)} MB` +
      ` (goal ≤ ${PEAK_RSS_GOAL_MB} MB: ${met(peak(scratch), PEAK_RSS_GOAL_MB)})`,
    `  = ${(wall(scratch) / wall(floors)).toFixed(1)}x the floor's wall time ` +
      `(${scratchRatio.toFixed(1)}x as the median of ` +
      `each run's own ratio: the floor runs just before it), ${(cpu(scratch) / cpu(floors)).toFixed(1)}x its CPU time`,
    `no-op re-sync, CLI from the bundle: ${times(noops)}, peak RSS ${peak(noops).toFixed(0)} MB` +
      ` (goal ≤ ${s(NOOP_GOAL_SECONDS)}: ${met(wall(noops), NOOP_GOAL_SECONDS)})`,
    `  bare node -e 0 in turn with it: ${times(bares)}, peak RSS ${peak(bares).toFixed(0)} MB`,
    `  = ${noopRatio.toFixed(1)}x the bare node run just before it (median of the runs' own ratios)`,
    `no-op re-sync, CLI from the sources (types stripped at load, no V8 flags): ${times(sourceNoops)}`,
  ];
  for (const line of lines) console.log(line);
  reportFigure({
    name: `\`users sync\` of ${USERS} users from scratch ÷ \`newusers\` + writing the keys (wall)`,
    value: wall(scratch),
    unit: 's',
    reference: { name: 'newusers --root + one writer', value: wall(floors) },
    goal: FLOOR_GOAL,
    ratio: scratchRatio,
    note: `CPU ${s(cpu(scratch))} ÷ ${s(cpu(floors))}`,
  });
  reportFigure({
    name: `peak RSS of \`users sync\` of ${USERS} users from scratch ÷ bare \`node -e 0\``,
    value: peak(scratch),
    unit: 'MB',
    reference: { name: 'bare node -e 0', value: peak(bares) },
    goal: null,
    valueGoal: PEAK_RSS_GOAL_MB,
  });
  reportFigure({
    name: `no-op \`users sync\` of ${USERS} users ÷ bare \`node -e 0\` (wall)`,
    value: wall(noops),
    unit: 's',
    reference: { name: 'bare node -e 0', value: wall(bares) },
    goal: null,
    valueGoal: NOOP_GOAL_SECONDS,
    ratio: noopRatio,
    note: `CPU ${s(cpu(noops))} ÷ ${s(cpu(bares))} (user+system)`,
  });
}

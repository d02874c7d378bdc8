/**
 * `npm run bench:users`: a sync of 1,000 users from scratch and a no-op re-sync of the same 1,000, each as a CLI
 * process (`users sync --root DIR`, the bundle as packaged; the no-op also from the sources), with the real
 * account tools on a scratch root (file source), beside the floor measured in the same run on an identical root:
 * the system's own batch tool (`newusers --root`, the same lines the agent gives it) for the accounts and homes,
 * then one process writing every authorized_keys (plain writes, no fsync). Prints wall and CPU times (median of
 * RUNS), their ratios to the floor and peak RSS (`/usr/bin/time -f %M`). Figures only: it never fails on them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import { CLI } from '../support/paths.ts';
import { requireRoot } from '../support/scratch.ts';
import { fillAccountsRoot, newKeyPair } from '../integration/users/users-root.ts';

const USERS = 1000;
const RUNS = 3;
const NOOP_RUNS = 5;
const FIRST_UID = 1000;
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users' };

requireRoot();

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

interface Run {
  readonly seconds: number;
  /** User and system CPU time, the process's and its children's. */
  readonly cpu: number;
  readonly peakKb: number;
}

/** One CLI process under /usr/bin/time: wall seconds and maximum resident set size. */
function cli(entry: string, root: string): Run {
  const args = ['-f', '%e %U %S %M', process.execPath, entry, 'users', 'sync', '--root', root, '--config', '/dev/null'];
  const result = spawnSync('/usr/bin/time', args, { env: ENV, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (result.status !== 0)
    throw new Error(`users sync exited ${result.status}: ${result.stdout.slice(-2000)}${result.stderr.slice(-2000)}`);
  const [seconds, user, system, peakKb] = (result.stderr.trim().split('\n').at(-1) ?? '').split(' ').map(Number);
  return { seconds: seconds as number, cpu: (user as number) + (system as number), peakKb: peakKb as number };
}

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
  const tool = spawnSync('/usr/bin/time', ['-f', '%U %S', 'newusers', '--root', root], {
    input: lines,
    encoding: 'utf8',
  });
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
  return { seconds: (performance.now() - start) / 1000, cpu, peakKb: 0 };
}

const work = mkdtempSync(join(tmpdir(), 'eha-users-bench-'));
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  const key = newKeyPair(work, 'bench').publicLine;
  const floors: Run[] = [];
  const scratch: Run[] = [];
  const noops: Run[] = [];
  const sourceNoops: Run[] = [];
  for (let run = 0; run < RUNS; run++) {
    const floorRoot = newRoot(work, 'floor', key);
    floors.push(floor(floorRoot, key));
    rmSync(floorRoot, { recursive: true, force: true });
    const root = newRoot(work, 'agent', key);
    scratch.push(cli(bundle, root));
    if (run === RUNS - 1) {
      for (let i = 0; i < NOOP_RUNS; i++) noops.push(cli(bundle, root));
      for (let i = 0; i < NOOP_RUNS; i++) sourceNoops.push(cli(CLI, root));
    }
    rmSync(root, { recursive: true, force: true });
  }
  report(floors, scratch, noops, sourceNoops);
} finally {
  rmSync(work, { recursive: true, force: true });
}

function report(
  floors: readonly Run[],
  scratch: readonly Run[],
  noops: readonly Run[],
  sourceNoops: readonly Run[],
): void {
  const s = (seconds: number) => `${seconds.toFixed(2)} s`;
  const mb = (runs: readonly Run[]) => `${Math.round(Math.max(...runs.map((r) => r.peakKb)) / 1024)} MB`;
  const wall = (runs: readonly Run[]) => median(runs.map((r) => r.seconds));
  const cpu = (runs: readonly Run[]) => median(runs.map((r) => r.cpu));
  const times = (runs: readonly Run[]) =>
    `${s(wall(runs))} (${runs.map((r) => s(r.seconds)).join(', ')}), CPU ${s(cpu(runs))}`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;
  const cores = execFileSync('nproc').toString().trim();
  const lines = [
    `users sync of ${USERS} users, scratch root, real account tools, node ${process.versions.node}, ${cores} cores`,
    `wall time (median of ${RUNS}; each run) and user+system CPU time, children included`,
    `floor, newusers --root + one process writing every authorized_keys: ${times(floors)}`,
    `from scratch, CLI from the bundle: ${times(scratch)}, peak RSS ${mb(scratch)}`,
    `  = ${ratio(wall(scratch), wall(floors))} the floor's wall time, ${ratio(cpu(scratch), cpu(floors))} its CPU time`,
    `no-op re-sync, CLI from the bundle (median of ${NOOP_RUNS}): ${times(noops)}, peak RSS ${mb(noops)}`,
    `no-op re-sync, CLI from the sources (types stripped at load): ${times(sourceNoops)}, peak RSS ${mb(sourceNoops)}`,
  ];
  for (const line of lines) console.log(line);
}

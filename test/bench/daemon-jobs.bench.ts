/**
 * `npm run bench:daemon`: the packaged daemon with a job that loads the AWS SDK, the users sync from SSM
 * (`USERS_SOURCE=ssm:…`, moto_server on loopback holding BENCH_USERS users), every USERS_SYNC_INTERVAL, beside
 * a bare idle `node` with the same V8 flags. It reports the daemon's steady RSS (no job running), the peak RSS
 * during a sync (the daemon and any process of its own the job runs in, added up) and the daemon's RSS after the
 * first sync, each a ratio to the bare node, read from /proc every PROBE_MS.
 *
 * The daemon runs in a mount namespace of its own with scratch copies bound over /etc, /home and /var/log and
 * scratch directories over the agent's (test/support/agent-dirs.ts): the accounts it creates exist only there,
 * and this machine's are never changed. Converge, updates and the spot watch are off: a converge installs and
 * configures packages and services, which no bind mount keeps off this machine. Every endpoint is on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import type { DaemonStatus } from '../../src/daemon/status-file.ts';
import { accountBinds, inBinds } from '../support/agent-dirs.ts';
import { type Moto, motoSsm, startMoto } from '../support/moto.ts';
import { requireRoot } from '../support/scratch.ts';
import { loopbackEnv, median, range, reportFigure, requireProjectRuntime, rssMb, V8_FLAGS } from './figures.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 180);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const SYNC_INTERVAL = '60s';
const PROBE_MS = 100;
const WARM_UP_S = 10;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFhSrbSjXvN0IgcRQ4ojNkXTYGgcsJ1BFVmNnKcE2dNc bench';

interface Probe {
  readonly atS: number;
  readonly daemon: number;
  /** RSS of the daemon's child processes that run node (a job's process), added up. */
  readonly jobs: number;
  readonly bare: number;
  readonly syncing: boolean;
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** RSS of a live process, 0 once it is gone (a job's process may exit between listing and reading). */
function rssOrZero(pid: number): number {
  try {
    return rssMb(pid);
  } catch {
    return 0;
  }
}

/** A process of the runtime (node names its main thread "MainThread", so the command line tells). */
function isNode(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] === process.execPath;
  } catch {
    return false;
  }
}

function statusIn(stateDir: string): DaemonStatus | null {
  try {
    return JSON.parse(readFileSync(`${stateDir}/status.json`, 'utf8')) as DaemonStatus;
  } catch {
    return null;
  }
}

async function putUsers(moto: Moto): Promise<void> {
  const ssm = motoSsm(moto);
  const put = (name: string, value: string) =>
    ssm.putParameter({ Name: name, Value: value, Type: 'String', Overwrite: true });
  await put('/ecs/users', 'initial');
  for (let start = 0; start < USERS; start += 20) {
    const count = Math.min(20, USERS - start);
    const batch = Array.from({ length: count }, (_, i) => `user${String(start + i).padStart(4, '0')}`);
    await Promise.all(batch.map((name) => put(`/ecs/users/${name}`, JSON.stringify({ sshPublicKeys: [KEY] }))));
  }
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

requireProjectRuntime();
requireRoot();
const work = mkdtempSync(join(tmpdir(), 'eha-bench-daemon-jobs-'));
const children: (ChildProcess | undefined)[] = [];
const moto = await startMoto();
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  await putUsers(moto);
  const binds = accountBinds(work);
  const settings = [
    'CONVERGE_INTERVAL=off',
    'UPDATES_CHECK_INTERVAL=off',
    'SPOT_INTERRUPTION_DRAIN=no',
    'METRICS_INTERVAL=10s',
    `METRICS_SINK_FILE=${work}/metrics.ndjson`,
    `SPOOL_DIR=${work}/spool`,
    `EVENTS_SINK_FILE=${work}/events.ndjson`,
    'USERS_SOURCE=ssm:/ecs/users',
    `USERS_SYNC_INTERVAL=${SYNC_INTERVAL}`,
  ];
  writeFileSync(`${work}/agent.env`, `${settings.join('\n')}\n`);
  const env = { ...loopbackEnv(), AWS_ENDPOINT_URL_SSM: moto.endpoint, AWS_ENDPOINT_URL_ECS: moto.endpoint };
  const daemonLog = `${work}/daemon.log`;
  const [file, args] = inBinds(binds, [process.execPath, ...V8_FLAGS, bundle, 'run', '--config', `${work}/agent.env`]);
  const daemon = spawn(file, args, { env, stdio: ['ignore', 'ignore', openSync(daemonLog, 'a')] });
  const idle = [...V8_FLAGS, '-e', 'setInterval(() => {}, 3600_000)'];
  const bare = spawn(process.execPath, idle, { env, stdio: 'ignore' });
  children.push(daemon, bare);
  const [daemonPid, barePid] = [daemon.pid as number, bare.pid as number];
  console.log(
    `daemon (bundle, Node ${process.versions.node} ${V8_FLAGS.join(' ')}) for ${SECONDS} s, users from SSM ` +
      `(moto, ${USERS} users) every ${SYNC_INTERVAL}; RSS every ${PROBE_MS} ms`,
  );

  const started = Date.now();
  const probes: Probe[] = [];
  let jobPeakHwm = 0;
  let firstSyncEndS: number | null = null;
  while ((Date.now() - started) / 1000 < SECONDS) {
    await delay(PROBE_MS);
    if (daemon.exitCode !== null)
      throw new Error(`the daemon exited ${daemon.exitCode}: ${readFileSync(daemonLog, 'utf8')}`);
    const status = statusIn(`${work}/state`);
    const atS = (Date.now() - started) / 1000;
    const jobPids = childPids(daemonPid).filter(isNode);
    for (const pid of jobPids) {
      const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (hwm) jobPeakHwm = Math.max(jobPeakHwm, Number(hwm) / 1024);
    }
    const syncing = status?.current?.['users-sync'] !== undefined;
    const jobs = jobPids.reduce((sum, pid) => sum + rssOrZero(pid), 0);
    probes.push({ atS, daemon: rssMb(daemonPid), jobs, bare: rssMb(barePid), syncing });
    if (firstSyncEndS === null && status?.tasks['users-sync'] !== undefined) firstSyncEndS = atS;
  }
  const status = statusIn(`${work}/state`);
  const sync = status?.tasks['users-sync'];
  if (!sync || sync.result !== 'ok' || firstSyncEndS === null) {
    const log = readFileSync(daemonLog, 'utf8').slice(-3000);
    throw new Error(`the users sync did not succeed: ${JSON.stringify(sync)}\n${log}`);
  }
  const steady = probes.filter((probe) => probe.atS >= WARM_UP_S && !probe.syncing && probe.jobs === 0);
  const during = probes.filter((probe) => probe.syncing);
  const syncEnd = firstSyncEndS as number;
  const after = probes.filter((probe) => probe.atS >= syncEnd + 5 && probe.atS < syncEnd + 10);
  const bareRss = median(probes.map((probe) => probe.bare));
  const steadyRss = median(steady.map((probe) => probe.daemon));
  const peak = Math.max(...during.map((probe) => probe.daemon + probe.jobs));
  const daemonPeak = Math.max(...probes.map((probe) => probe.daemon));
  const afterRss = median(after.map((probe) => probe.daemon));
  const passwd = readFileSync(`${work}/etc/passwd`, 'utf8').split('\n');
  const accounts = passwd.filter((line) => line.startsWith('user')).length;
  console.log(`  users sync: ${sync.summary}; ${accounts} accounts in the scratch /etc/passwd`);
  const spread = range(
    steady.map((probe) => probe.daemon),
    1,
  );
  console.log(`  daemon RSS MB: steady ${steadyRss.toFixed(1)} (${spread}), peak ${daemonPeak.toFixed(1)}`);
  const jobPeak = `a job process's own peak (VmHWM) ${jobPeakHwm.toFixed(1)}`;
  console.log(`  during a sync MB: daemon and job processes ${peak.toFixed(1)}; ${jobPeak}`);
  console.log(`  bare idle node RSS MB: ${bareRss.toFixed(1)}`);
  const probed = `${during.length} probes during a sync, ${steady.length} steady`;
  const note = `${USERS} users from SSM (moto) every ${SYNC_INTERVAL}; ${probed}`;
  reportFigure({
    name: 'daemon with users from SSM (the AWS SDK): steady RSS ÷ bare idle node',
    value: steadyRss,
    unit: 'MB',
    reference: { name: 'bare idle node', value: bareRss },
    goal: 1.4,
    note,
  });
  reportFigure({
    name: 'daemon with users from SSM: peak RSS during a sync (daemon + job process) ÷ bare idle node',
    value: peak,
    unit: 'MB',
    reference: { name: 'bare idle node', value: bareRss },
    goal: null,
    note: `the job process's own peak ${jobPeakHwm.toFixed(1)} MB (0: the job ran inside the daemon)`,
  });
  reportFigure({
    name: 'daemon with users from SSM: RSS 5-10 s after the first sync ÷ bare idle node',
    value: afterRss,
    unit: 'MB',
    reference: { name: 'bare idle node', value: bareRss },
    goal: 1.4,
  });
} finally {
  for (const child of children.reverse()) await stop(child);
  await moto.stop();
  if (existsSync(work)) rmSync(work, { recursive: true, force: true });
}

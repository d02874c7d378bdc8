/**
 * `npm run bench:daemon`: the packaged daemon's steady cost. The bundle runs
 * `ecs-host-agent run` with packaging/wrapper.sh's V8 flags for BENCH_SECONDS
 * (default 300), taking a metrics sample every 10 s and delivering it to the
 * reference receiver (`control-server` of the same bundle, in a process of its
 * own on a loopback port). Beside it, for the whole run, a bare idle `node` of
 * the same runtime with the same flags: the floor. RSS of both is read from
 * /proc every 5 s; the steady figure is the median after a 30 s warm-up.
 *
 * Converge, updates and the spot-interruption watch are off: this machine must
 * not be changed and must not reach IMDS. Every endpoint points at loopback.
 *
 * BENCH_NOTIFY=1: the daemon as systemd runs it, with NOTIFY_SOCKET (a scratch
 * datagram socket) and the unit's WatchdogSec, so it tells systemd it is ready
 * and pings the watchdog through `systemd-notify`, commands the daemon runs.
 * BENCH_WATCHDOG_USEC sets another watchdog (a ping every half of it).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

import { bundleAgent } from '../../packaging/build/bundle.ts';
import { PACKAGE_JSON } from '../../packaging/build/project.ts';
import { STATUS_FILE } from '../../src/daemon/status-file.ts';
import { freePort } from '../integration/metrics/free-port.ts';
import { type NotifySocket, startNotifySocket } from '../support/notify-socket.ts';
import { loopbackEnv, median, range, reportFigure, requireProjectRuntime, rssMb, V8_FLAGS } from './figures.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 300);
const METRICS_INTERVAL = '10s';
const WARM_UP_S = 30;
const PROBE_EVERY_S = 5;
const TICKS_PER_S = 100;
const RECEIVER_START_TIMEOUT_MS = 10_000;
const NOTIFY = process.env.BENCH_NOTIFY === '1';
const UNIT = new URL('../../systemd/ecs-host-agent.service', import.meta.url);

/** WATCHDOG_USEC as systemd sets it from the unit's WatchdogSec (minutes or seconds). */
function unitWatchdogUsec(): number {
  const [, amount, unit] = /^WatchdogSec=(\d+)(min|s)$/m.exec(readFileSync(UNIT, 'utf8')) ?? [];
  if (amount === undefined) throw new Error(`no WatchdogSec=<n>min or <n>s in ${UNIT.pathname}`);
  return Number(amount) * (unit === 'min' ? 60 : 1) * 1_000_000;
}

/** The daemon's environment: with a notification socket and the unit's watchdog under BENCH_NOTIFY=1. */
async function daemonEnv(env: Record<string, string>, work: string): Promise<[Record<string, string>, NotifySocket?]> {
  if (!NOTIFY) return [env];
  const notify = await startNotifySocket(`${work}/notify.sock`);
  const watchdogUsec = process.env.BENCH_WATCHDOG_USEC ?? String(unitWatchdogUsec());
  return [{ ...env, NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: watchdogUsec }, notify];
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name.
  return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0) / TICKS_PER_S;
}

/** The reference receiver; resolves once it prints the URL it listens on. */
async function startReceiver(
  bundle: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ child: ChildProcess; url: string }> {
  const listen = `127.0.0.1:${await freePort()}`;
  const args = [bundle, 'control-server', '--listen', listen, '--data-dir', dataDir];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', openSync(`${dataDir}.log`, 'a')] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const giveUp = Date.now() + RECEIVER_START_TIMEOUT_MS;
  while (!/^CONTROL_URL=(\S+)$/m.test(output)) {
    if (child.exitCode !== null || Date.now() > giveUp)
      throw new Error(`control-server did not start on ${listen}: ${output}`);
    await delay(50);
  }
  return { child, url: /^CONTROL_URL=(\S+)$/m.exec(output)?.[1] as string };
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

function storedSamples(bundle: string, dataDir: string, env: NodeJS.ProcessEnv): number {
  const args = [bundle, 'control-server', '--data-dir', dataDir, '--print', 'samples'];
  return execFileSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 })
    .split('\n')
    .filter(Boolean).length;
}

requireProjectRuntime();
const work = mkdtempSync(join(tmpdir(), 'eha-bench-daemon-'));
const previousStatus = existsSync(STATUS_FILE) ? readFileSync(STATUS_FILE) : null;
const children: (ChildProcess | undefined)[] = [];
let notify: NotifySocket | undefined;
try {
  const bundle = (await bundleAgent(`${work}/bundle`, PACKAGE_JSON.version)).entry;
  const env = loopbackEnv();
  const receiver = await startReceiver(bundle, `${work}/receiver`, env);
  children.push(receiver.child);
  writeFileSync(
    `${work}/agent.env`,
    [
      'CONVERGE_INTERVAL=off',
      'UPDATES_CHECK_INTERVAL=off',
      'SPOT_INTERRUPTION_DRAIN=no',
      `METRICS_INTERVAL=${METRICS_INTERVAL}`,
      `CONTROL_URL=${receiver.url}`,
      `SPOOL_DIR=${work}/spool`,
      `EVENTS_SINK_FILE=${work}/events.ndjson`,
      '',
    ].join('\n'),
  );
  const daemonLog = `${work}/daemon.log`;
  const daemonArgs = [...V8_FLAGS, bundle, 'run', '--config', `${work}/agent.env`];
  let withNotify: Record<string, string>;
  [withNotify, notify] = await daemonEnv(env, work);
  const daemon = spawn(process.execPath, daemonArgs, {
    env: withNotify,
    stdio: ['ignore', 'ignore', openSync(daemonLog, 'a')],
  });
  const bare = spawn(process.execPath, [...V8_FLAGS, '-e', 'setInterval(() => {}, 3600_000)'], {
    env,
    stdio: 'ignore',
  });
  children.push(daemon, bare);
  const [daemonPid, barePid] = [daemon.pid as number, bare.pid as number];
  console.log(
    `daemon (bundle, Node ${process.versions.node} ${V8_FLAGS.join(' ')}) for ${SECONDS} ` +
      `s, metrics every ${METRICS_INTERVAL} to the reference receiver; RSS every ${PROBE_EVERY_S} s` +
      (notify === undefined ? '' : `; NOTIFY_SOCKET set, WATCHDOG_USEC=${withNotify.WATCHDOG_USEC}`),
  );

  const started = Date.now();
  const daemonRss: number[] = [];
  const bareRss: number[] = [];
  let daemonPeak = 0;
  let cpuAtWarmUp = { daemon: 0, bare: 0, atS: 0 };
  while ((Date.now() - started) / 1000 < SECONDS) {
    await delay(PROBE_EVERY_S * 1000);
    const atS = (Date.now() - started) / 1000;
    if (daemon.exitCode !== null)
      throw new Error(`the daemon exited ${daemon.exitCode}: ${readFileSync(daemonLog, 'utf8')}`);
    const [now, floor] = [rssMb(daemonPid), rssMb(barePid)];
    daemonPeak = Math.max(daemonPeak, now);
    if (atS < WARM_UP_S) {
      cpuAtWarmUp = { daemon: cpuSeconds(daemonPid), bare: cpuSeconds(barePid), atS };
      continue;
    }
    daemonRss.push(now);
    bareRss.push(floor);
  }
  const elapsedS = (Date.now() - started) / 1000 - cpuAtWarmUp.atS;
  const cpuPerHour = (pid: number, before: number) => ((cpuSeconds(pid) - before) / elapsedS) * 3600;
  const samples = storedSamples(bundle, `${work}/receiver`, env);
  console.log(
    `  daemon RSS MB: steady ${median(daemonRss).toFixed(1)} (${range(daemonRss, 1)}), ` +
      `peak ${daemonPeak.toFixed(1)}; CPU ${cpuPerHour(daemonPid, cpuAtWarmUp.daemon).toFixed(1)} s per hour`,
  );
  console.log(
    `  bare idle node RSS MB: ${median(bareRss).toFixed(1)} (${range(bareRss, 1)}); CPU ` +
      `${cpuPerHour(barePid, cpuAtWarmUp.bare).toFixed(1)} s per hour`,
  );
  console.log(`  samples stored by the receiver: ${samples}`);
  if (notify !== undefined) console.log(`  notifications received: ${notify.messages.slice(1).join('; ')}`);
  const failures = readFileSync(daemonLog, 'utf8')
    .split('\n')
    .filter((line) => /^(error|warn)/.test(line));
  if (failures.length > 0)
    console.log(`  the daemon logged ${failures.length} errors or warnings, the first: ${failures[0]}`);
  reportFigure({
    name:
      'daemon steady RSS (metrics every 10 s to the reference receiver; converge/updates off' +
      `${notify === undefined ? '' : '; NOTIFY_SOCKET set'}) ÷ bare idle node`,
    value: median(daemonRss),
    unit: 'MB',
    reference: { name: 'bare idle node', value: median(bareRss) },
    goal: 1.4,
    note:
      `median of ${daemonRss.length} probes after ${WARM_UP_S} s; peak ${daemonPeak.toFixed(0)} ` +
      `MB; ${samples} samples delivered`,
  });
} finally {
  for (const child of children.reverse()) await stop(child);
  await notify?.close();
  if (previousStatus) writeFileSync(STATUS_FILE, previousStatus);
  else rmSync(STATUS_FILE, { force: true });
  rmSync(work, { recursive: true, force: true });
}

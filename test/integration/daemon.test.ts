/**
 * The daemon as systemd runs it. First a real `ecs-host-agent run` process on this machine with a notification
 * socket: periodic converge is off, so it changes nothing here, and so are updates; the spot watch asks a
 * loopback IMDS; the metrics job writes to a scratch file sink or a loopback receiver; every other endpoint is a
 * dead loopback port. Each daemon (and each command beside it) runs with scratch directories for its lock and
 * status (test/support/agent-dirs.ts), so suites running at once never see each other's daemon. What is tested is
 * the process contract (readiness, watchdog, one instance, jobs, SIGHUP, SIGTERM, status). Then the daemon under a
 * real systemd, in a container, stopped in the middle of a converge.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, test, type TestContext } from 'node:test';

import { type Bundle, bundleAgent } from '../../packaging/build/bundle.ts';
import type { DaemonStatus } from '../../src/daemon/status-file.ts';
import { type AgentDirs, agentDirs, inAgentDirs } from '../support/agent-dirs.ts';
import type { CliResult } from '../support/cli.ts';
import { startEndpoint } from './control/receiver-server.ts';
import { startNotifySocket } from '../support/notify-socket.ts';
import { type Container, bootContainer } from '../support/nspawn.ts';
import { OFFLINE_ENV } from '../support/offline-env.ts';
import { pollUntil } from '../support/poll.ts';
import { CLI, REPO } from '../support/paths.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';

test(
  'run: ready and watchdog over NOTIFY_SOCKET, one instance, SIGHUP keeps a good config, SIGTERM ' + 'stops cleanly',
  async (t) => {
    requireRoot();
    const dir = scratchDir(t);
    const dirs = agentDirs(t);
    const config = `${dir}/agent.env`;
    const sinks = `METRICS_SINK_FILE=${dir}/metrics.ndjson\nSPOOL_DIR=${dir}/spool\n`;
    const settings = `UPDATES_CHECK_INTERVAL=off\nSPOT_INTERRUPTION_DRAIN=no\n${sinks}`;
    writeFileSync(config, `CONVERGE_INTERVAL=off\n${settings}`);
    const { daemon, notify, stderr } = await startDaemon(t, dirs, config, { WATCHDOG_USEC: '400000' });
    await notify.waitFor(/WATCHDOG=1/);
    assert.match(readFileSync(`${dirs.run}/agent.pid`, 'utf8'), new RegExp(`^${daemon.pid} \\d+\n$`));

    const second = await cliIn(dirs, ['run', '--config', config]);
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`already running as pid ${daemon.pid}`));

    await pollUntil(() => existsSync(`${dir}/metrics.ndjson`), 'the first sample in the file', 20_000);
    const sample = JSON.parse(readFileSync(`${dir}/metrics.ndjson`, 'utf8').split('\n')[0] ?? '');
    assert.equal(typeof sample, 'object', 'the metrics job ran at start and wrote a sample');
    const status = await cliIn(dirs, ['status', '--json']);
    const reported = JSON.parse(status.stdout);
    assert.equal(reported.running, true);
    assert.equal(reported.pid, daemon.pid);
    await pollUntil(() => statusOf(dirs)?.tasks.metrics !== undefined, 'metrics in status', 20_000);
    assert.equal(statusOf(dirs)?.tasks.metrics?.result, 'ok');

    writeFileSync(config, `CONVERGE_INTERVAL=often\n${settings}`);
    daemon.kill('SIGHUP');
    await pollUntil(
      () => /configuration not reloaded, keeping the running one: .*CONVERGE_INTERVAL="often"/.test(stderr()),
      'the refused reload in the log',
      20_000,
    );
    assert.equal(daemon.exitCode, null, 'a bad config on reload does not stop the daemon');

    daemon.kill('SIGTERM');
    const [code] = await once(daemon, 'exit');
    assert.equal(code, 0, stderr());
    await notify.waitFor(/STOPPING=1/);
    assert.equal(existsSync(`${dirs.run}/agent.pid`), false, 'the lock is released');
    assert.equal(statusOf(dirs)?.state, 'stopped');
    assert.equal((await cliIn(dirs, ['status'])).status, 1, 'status says the daemon is not running');
  },
);

/** What systemd's EnvironmentFile= exports from a strict agent.env: every KEY=value line, as is. */
function exportedBySystemd(file: string): Record<string, string> {
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => /^[A-Z_][A-Z0-9_]*=/.test(line));
  return Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

/** A loopback IMDS: tokens always; spot/instance-action as `answer` says (500: failing, 404: nothing announced). */
async function startImds(t: TestContext): Promise<{ url: string; answer: number }> {
  const imds = { url: '', answer: 500 };
  const server = createServer((request, response) => {
    if (request.method === 'PUT' && request.url === '/latest/api/token') return void response.end('token');
    response.writeHead(request.url === '/latest/meta-data/spot/instance-action' ? imds.answer : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  imds.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return imds;
}

test('run with EnvironmentFile=: lines named, spot watch honest, reload reads the file, status', async (t) => {
  requireRoot();
  const dir = scratchDir(t);
  const dirs = agentDirs(t);
  const imds = await startImds(t);
  const config = `${dir}/agent.env`;
  const settings = [
    'CONVERGE_INTERVAL=off',
    'UPDATES_CHECK_INTERVAL=off',
    `AWS_EC2_METADATA_SERVICE_ENDPOINT=${imds.url}`,
    `METRICS_SINK_FILE=${dir}/metrics.ndjson`,
    `SPOOL_DIR=${dir}/spool`,
  ];
  const bad = `${dir}/bad.env`;
  writeFileSync(bad, [...settings, 'METRICS_INTERVAL=5s', ''].join('\n'));
  const refused = await cliIn(dirs, ['run', '--config', bad], exportedBySystemd(bad));
  assert.equal(refused.status, 78);
  assert.match(refused.stderr, new RegExp(`${bad}:6: METRICS_INTERVAL="5s" `), 'the line, not "environment"');

  writeFileSync(config, ['ECS_CLUSTER=first', ...settings, ''].join('\n'));
  const { daemon, stderr } = await startDaemon(t, dirs, config, exportedBySystemd(config));
  const spot = () => statusOf(dirs)?.tasks['spot-interruption'];
  const lines = (pattern: RegExp) =>
    stderr()
      .split('\n')
      .filter((line) => pattern.test(line));

  await pollUntil(() => (spot()?.consecutiveFailures ?? 0) >= 3, 'three failures of the spot watch', 60_000);
  const failing = await cliIn(dirs, ['status']);
  assert.equal(failing.status, 1);
  assert.match(
    failing.stdout,
    /^spot-interruption: failed at .*: cannot tell whether a spot interruption is announced: IMDS .* HTTP 500; /m,
  );
  assert.equal(lines(/^[a-z]+: spot-interruption/).length, 1, `one line for three failures:\n${stderr()}`);
  assert.match(
    lines(/^[a-z]+: spot-interruption/)[0] ?? '',
    /^error: spot-interruption failed \(attempt 1\): cannot tell .* HTTP 500; next attempt in \d s/,
  );

  imds.answer = 404;
  await pollUntil(() => spot()?.result === 'ok', 'the spot watch to recover', 20_000);
  const firstOk = spot()?.startedAt;
  await pollUntil(() => spot()?.startedAt !== firstOk, 'the next run of the spot watch');
  const quiet = lines(/spot-interruption: no spot interruption announced/);
  assert.equal(quiet.length, 1, `the recovery is news, the steady state after it is not:\n${stderr()}`);
  assert.match(
    quiet[0] ?? '',
    /^info: spot-interruption: no spot interruption announced \(recovered; failing since \S+\)/,
  );

  writeFileSync(config, ['ECS_CLUSTER=second', ...settings, ''].join('\n'));
  daemon.kill('SIGHUP');
  const reloaded = /configuration reloaded \(SIGHUP\): ECS_CLUSTER changed; /;
  await pollUntil(() => reloaded.test(stderr()), 'the reload', 20_000);

  const shown = await cliIn(dirs, ['status', '--config', bad]);
  assert.equal(shown.status, 78);
  assert.match(shown.stdout, new RegExp(`^running as pid ${daemon.pid} since `, 'm'));
  assert.match(shown.stdout, new RegExp(`^configuration error: ${bad}:6: METRICS_INTERVAL="5s" `, 'm'));

  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
});

test('SIGHUP applies the edited agent.env: LOG_LEVEL, an interval, sinks and jobs on and off', async (t) => {
  requireRoot();
  const dir = scratchDir(t);
  const dirs = agentDirs(t);
  const imds = await startImds(t);
  imds.answer = 404;
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  const controlUrl = `CONTROL_URL=${endpoint.url}`;
  const config = `${dir}/agent.env`;
  const sinkFile = `${dir}/metrics.ndjson`;
  const common = [
    'CONVERGE_INTERVAL=off',
    'UPDATES_CHECK_INTERVAL=off',
    `AWS_EC2_METADATA_SERVICE_ENDPOINT=${imds.url}`,
    'CONTROL_IDENTITY=no',
    `METRICS_SINK_FILE=${sinkFile}`,
    `SPOOL_DIR=${dir}/spool`,
  ];
  const write = (...lines: string[]) => writeFileSync(config, [...common, ...lines, ''].join('\n'));
  write('LOG_LEVEL=info', 'METRICS_INTERVAL=60s', 'SPOT_INTERRUPTION_DRAIN=no');
  const { daemon, stderr } = await startDaemon(t, dirs, config, exportedBySystemd(config));
  const samplesInFile = () => (existsSync(sinkFile) ? readFileSync(sinkFile, 'utf8').split('\n').length - 1 : 0);
  const since = (mark: number) => stderr().slice(mark);
  /** Edits agent.env, sends SIGHUP, and returns the log from the reload on, once status has the reload. */
  const reload = async (...lines: string[]) => {
    const before = statusOf(dirs)?.reload?.at;
    write(...lines);
    const mark = stderr().length;
    daemon.kill('SIGHUP');
    await pollUntil(() => statusOf(dirs)?.reload !== undefined && statusOf(dirs)?.reload?.at !== before, 'the reload');
    return { log: () => since(mark), record: statusOf(dirs)?.reload };
  };
  await pollUntil(() => samplesInFile() === 1 && statusOf(dirs)?.tasks.metrics !== undefined, 'the first sample');
  assert.doesNotMatch(stderr(), /^debug: /m, 'LOG_LEVEL=info at start');

  // On: debug logging, metrics every 10 s to the control endpoint instead of the file, the spot watch.
  const on = await reload('LOG_LEVEL=debug', 'METRICS_INTERVAL=10s', 'SPOT_INTERRUPTION_DRAIN=yes', controlUrl);
  const reloaded = 'info: configuration reloaded (SIGHUP): ';
  assert.ok(
    on
      .log()
      .includes(
        `${reloaded}CONTROL_URL, LOG_LEVEL, METRICS_INTERVAL, SPOT_INTERRUPTION_DRAIN changed; metrics every 10 s ` +
          '(was 60 s), events turned on (every 5 min), spot-interruption turned on (every 5 s); ',
      ),
    on.log(),
  );
  assert.equal(on.record?.result, 'applied');
  const nextSample = Date.parse(statusOf(dirs)?.tasks.metrics?.nextRunAt ?? '');
  const reloadedAt = Date.parse(on.record?.at ?? '');
  assert.ok(nextSample - reloadedAt <= 10_000, 'the next sample within the new interval, not the old 60 s');
  await pollUntil(() => statusOf(dirs)?.tasks['spot-interruption']?.result === 'ok', 'the spot watch, turned on');
  await pollUntil(() => /^debug: spot-interruption: no spot interruption announced/m.test(on.log()), 'a debug line');
  await pollUntil(() => endpoint.received.length >= 1, 'a sample at the control endpoint');
  assert.equal(samplesInFile(), 1, 'with CONTROL_URL on, samples go to the endpoint, not the file');
  const shown = await cliIn(dirs, ['status', '--config', config]);
  assert.equal(shown.status, 0, shown.stdout);
  assert.match(shown.stdout, /^reload: applied at \S+: CONTROL_URL, LOG_LEVEL, /m);

  // Off again: the spot watch and the control endpoint (so the events job); samples to the file; info logging.
  const off = await reload('LOG_LEVEL=info', 'METRICS_INTERVAL=10s', 'SPOT_INTERRUPTION_DRAIN=no');
  assert.ok(
    off
      .log()
      .includes(
        `${reloaded}CONTROL_URL, LOG_LEVEL, SPOT_INTERRUPTION_DRAIN changed; events turned off, ` +
          'spot-interruption turned off; ',
      ),
    off.log(),
  );
  await pollUntil(() => statusOf(dirs)?.tasks['spot-interruption'] === undefined, 'the spot watch to leave status');
  await pollUntil(() => samplesInFile() >= 2, 'a sample in the file again');
  const received = endpoint.received.length;
  await pollUntil(() => samplesInFile() >= 3, 'the next sample in the file');
  assert.equal(endpoint.received.length, received, 'the control sink is off');
  assert.doesNotMatch(off.log(), /^debug: /m, 'LOG_LEVEL=info again');

  // A bad file: refused, the running configuration kept, status says so.
  const bad = await reload('LOG_LEVEL=info', 'METRICS_INTERVAL=5s', 'SPOT_INTERRUPTION_DRAIN=no');
  const notReloaded = 'error: configuration not reloaded, keeping the running one: ';
  assert.ok(bad.log().includes(`${notReloaded}${config}:8: METRICS_INTERVAL="5s" `), bad.log());
  assert.equal(bad.record?.result, 'refused');
  const refused = await cliIn(dirs, ['status']);
  assert.equal(refused.status, 1, refused.stdout);
  const kept = `running on the configuration applied at ${off.record?.at}`;
  const line = new RegExp(`^reload: refused at \\S+: ${config}:8: METRICS_INTERVAL="5s" .*; ${kept}$`, 'm');
  assert.match(refused.stdout, line);
  const files = samplesInFile();
  await pollUntil(() => samplesInFile() > files, 'the next sample, on the running configuration');

  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
});

/** The CLI as an operator runs it beside the daemon: the same agent directories, every endpoint at loopback. */
function cliIn(dirs: AgentDirs, args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const [file, argv] = inAgentDirs(dirs, [process.execPath, CLI, ...args]);
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  const fullEnv = { ...base, ...OFFLINE_ENV, ...env };
  return new Promise((resolve) => {
    execFile(file, argv, { encoding: 'utf8', env: fullEnv, timeout: 120_000 }, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

/** The daemon's status.json in `dirs`, or undefined before it wrote one. */
function statusOf(dirs: AgentDirs): DaemonStatus | undefined {
  const file = `${dirs.state}/status.json`;
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as DaemonStatus) : undefined;
}

/** `run` as a child process with a notification socket, in `dirs`; resolves once it said READY=1. */
async function startDaemon(t: TestContext, dirs: AgentDirs, config: string, extraEnv: Record<string, string>) {
  const notify = await startNotifySocket(`${dirname(config)}/notify.sock`);
  t.after(() => notify.close());
  const env = { PATH: process.env.PATH ?? '', NOTIFY_SOCKET: notify.path, ...OFFLINE_ENV, ...extraEnv };
  const [file, argv] = inAgentDirs(dirs, [process.execPath, CLI, 'run', '--config', config]);
  const daemon: ChildProcess = spawn(file, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  t.after(() => daemon.exitCode === null && daemon.kill('SIGKILL'));
  await notify.waitFor(/READY=1/).catch((error: Error) => {
    throw new Error(`${error.message}; the daemon said: ${stderr || '(nothing)'}`);
  });
  return { daemon, notify, stderr: () => stderr };
}

/**
 * The daemon under systemd as PID 1 (a booted Debian 12 container, no network), installed as its package lays
 * it out: the bundle, the Node runtime, the wrapper and the unit from systemd/. apt-get is a stand-in that logs
 * what it is asked and blocks or fails as the test says, so a converge can be caught in the middle of a step.
 * A drop-in sets TimeoutStopSec=15s: a stop that took longer would end in SIGKILL and Result=timeout.
 */
const FAKE_APT = `#!/bin/sh
# Stand-in for apt-get: logs its arguments; /etc/fake-apt.mode says how "update" and "install" behave.
echo "$$ $*" >> /var/log/fake-apt/calls
mode=$(cat /etc/fake-apt.mode)
case " $* " in
  *" update "*)
    if [ "$mode" = block-update ]; then
      sleep 600 &
      echo "$$ $!" > /var/log/fake-apt/update.pids
      wait
    fi
    exit 0 ;;
  *" install "*)
    case "$mode" in
      block-install) echo $$ > /var/log/fake-apt/install.pid; exec sleep 600 ;;
      fail-install) echo "E: Unable to locate package docker.io" >&2; exit 100 ;;
    esac ;;
esac
exit 0
`;

const DEAD = 'http://127.0.0.1:9';
const CONTAINER_ENV = [
  'CONVERGE_INTERVAL=30m',
  'UPDATES_CHECK_INTERVAL=off',
  'SPOT_INTERRUPTION_DRAIN=no',
  'AWS_REGION=us-east-1',
  `AWS_EC2_METADATA_SERVICE_ENDPOINT=${DEAD}`,
  ...['ECS', 'SSM', 'S3', 'ECR'].map((service) => `AWS_ENDPOINT_URL_${service}=${DEAD}`),
  `ECSINIT_BASE_URL=${DEAD}`,
  '',
].join('\n');

const DROP_IN = '[Service]\nTimeoutStopSec=15s\nEnvironment=AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test\n';

let bundleDir: string | null = null;
let bundled: Promise<Bundle> | null = null;
after(() => bundleDir && rmSync(bundleDir, { recursive: true, force: true }));

/** The agent bundled once for the file's tests, as the package build bundles it. */
function agentBundle(): Promise<Bundle> {
  bundleDir ??= mkdtempSync(join(tmpdir(), 'eha-bundle-'));
  bundled ??= bundleAgent(bundleDir, 'test');
  return bundled;
}

/** Boots a container and installs the agent into it as its package would, plus the test's apt-get stand-in. */
async function containerWithAgent(t: TestContext): Promise<Container> {
  const bundle = await agentBundle();
  const container = await bootContainer(t);
  const root = container.root;
  const lib = `${root}/usr/lib/ecs-host-agent`;
  mkdirSync(`${lib}/keys`, { recursive: true });
  for (const file of bundle.files) copyFileSync(file, `${lib}/${basename(file)}`);
  copyFileSync(process.execPath, `${lib}/node`);
  copyFileSync(`${REPO}packaging/keys/amazon-ecs-agent.asc`, `${lib}/keys/amazon-ecs-agent.asc`);
  copyFileSync(`${REPO}packaging/wrapper.sh`, `${root}/usr/bin/ecs-host-agent`);
  chmodSync(`${lib}/node`, 0o755);
  chmodSync(`${root}/usr/bin/ecs-host-agent`, 0o755);
  copyFileSync(`${REPO}systemd/ecs-host-agent.service`, `${root}/etc/systemd/system/ecs-host-agent.service`);
  mkdirSync(`${root}/etc/systemd/system/ecs-host-agent.service.d`);
  writeFileSync(`${root}/etc/systemd/system/ecs-host-agent.service.d/test.conf`, DROP_IN);
  mkdirSync(`${root}/etc/ecs-host-agent`);
  writeFileSync(`${root}/etc/ecs-host-agent/agent.env`, CONTAINER_ENV, { mode: 0o600 });
  writeFileSync(`${root}/usr/local/sbin/apt-get`, FAKE_APT, { mode: 0o755 });
  mkdirSync(`${root}/var/log/fake-apt`);
  container.run(['systemctl', 'daemon-reload']);
  return container;
}

interface Journal {
  readonly messages: string[];
}

/** The daemon's own log lines of one run (journald keeps the JSON it wrote, priority prefix consumed). */
function runLog(container: Container, invocation: string): Journal {
  const lines = container
    .run(['journalctl', '--no-pager', '-o', 'cat', `_SYSTEMD_INVOCATION_ID=${invocation}`])
    .split('\n');
  return { messages: lines.flatMap((line) => (line.startsWith('{') ? [String(JSON.parse(line).message)] : [])) };
}

/** The last run's log once a line matches: journald may write a line a moment after the daemon did. */
async function logOnceSeen(container: Container, invocation: string, pattern: RegExp): Promise<Journal> {
  let journal = runLog(container, invocation);
  const deadline = Date.now() + 20_000;
  while (!journal.messages.some((message) => pattern.test(message)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    journal = runLog(container, invocation);
  }
  return journal;
}

function unitResult(container: Container): Record<string, string> {
  const shown = container.run([
    'systemctl',
    'show',
    '-p',
    'Result',
    '-p',
    'ExecMainStatus',
    '-p',
    'ActiveState',
    'ecs-host-agent',
  ]);
  return Object.fromEntries(
    shown
      .trim()
      .split('\n')
      .map((line) => line.split('=', 2) as [string, string]),
  );
}

/** Starts the unit with apt-get behaving as `mode` says; returns the run's invocation id (gone once it stopped). */
function startWithMode(container: Container, mode: string): string {
  writeFileSync(`${container.root}/etc/fake-apt.mode`, `${mode}\n`);
  rmSync(`${container.root}/var/log/fake-apt/calls`, { force: true });
  container.run(['systemctl', 'start', 'ecs-host-agent']);
  return container.run(['systemctl', 'show', '-P', 'InvocationID', 'ecs-host-agent']).trim();
}

/** (A minimal Debian has no procps, so no kill(1): /proc and the shell's own kill.) */
function alive(container: Container, pid: string): boolean {
  return container.exec(['test', '-e', `/proc/${pid}`]).status === 0;
}

function kill(container: Container, pid: string): void {
  container.run(['sh', '-c', 'kill "$0"', pid]);
}

test('under systemd: a stop in a converge: Result=success within TimeoutStopSec, nothing new', async (t) => {
  const container = await containerWithAgent(t);
  const log = `${container.root}/var/log/fake-apt`;

  // 1. Stuck in apt-get install, which must not be killed: waited for (10 s), then left to finish on its own.
  const first = startWithMode(container, 'block-install');
  await pollUntil(() => existsSync(`${log}/install.pid`), 'apt-get install to run', 60_000);
  const installPid = readFileSync(`${log}/install.pid`, 'utf8').trim();
  const callsBeforeStop = readFileSync(`${log}/calls`, 'utf8');
  container.run(['systemctl', 'stop', 'ecs-host-agent']);
  assert.deepEqual(unitResult(container), { Result: 'success', ExecMainStatus: '0', ActiveState: 'inactive' });
  const stopped = (await logOnceSeen(container, first, /^stopping without waiting/)).messages;
  // The converge runs in a process of its own: the daemon waits for that process, which waits for the install.
  const stopping = stopped.findIndex((message) =>
    /^stopping: ([a-z-]+, )*converge(, [a-z-]+)* running; no new step .*; waiting up to 10 s for .* job converge /.test(
      message,
    ),
  );
  assert.ok(stopping >= 0, stopped.join('\n'));
  assert.ok(
    stopped.some((message) => /^converge: stopping: no new step starts; waiting for apt-get .* install /.test(message)),
    stopped.join('\n'),
  );
  assert.ok(
    stopped.some((message) =>
      /^stopping without waiting longer than 10 s for .* job converge .*: left to finish on its own$/.test(message),
    ),
    stopped.join('\n'),
  );
  assert.deepEqual(
    stopped.slice(stopping).filter((message) => /^(ecs|ecs-config|gpu|users|updates): /.test(message)),
    [],
    'no step after the stop',
  );
  assert.equal(readFileSync(`${log}/calls`, 'utf8'), callsBeforeStop, 'no command after the stop');
  assert.equal(alive(container, installPid), true, 'the install was left to finish (KillMode=process), not killed');
  kill(container, installPid);

  // 2. Stuck in apt-get update, which may be stopped part-way: its process group is killed at once.
  const second = startWithMode(container, 'block-update');
  await pollUntil(() => existsSync(`${log}/update.pids`), 'apt-get update to run', 60_000);
  const updatePids = readFileSync(`${log}/update.pids`, 'utf8').trim().split(' ');
  container.run(['systemctl', 'stop', 'ecs-host-agent']);
  assert.deepEqual(unitResult(container), { Result: 'success', ExecMainStatus: '0', ActiveState: 'inactive' });
  assert.deepEqual(
    updatePids.map((pid) => alive(container, pid)),
    [false, false],
    'apt-get update and the child it forked are gone',
  );
  const stoppingUpdate = /^converge: stopping: no new step starts; stopping apt-get .* update/;
  const killed = (await logOnceSeen(container, second, stoppingUpdate)).messages;
  assert.ok(
    killed.some((message) => stoppingUpdate.test(message)),
    killed.join('\n'),
  );
  assert.equal(
    killed.some((message) => /stopping without waiting/.test(message)),
    false,
    'nothing had to be left behind',
  );
});

test('under systemd: a failed first converge is retried after about 30 s, and status shows why', async (t) => {
  const container = await containerWithAgent(t);
  const root = container.root;
  const run = startWithMode(container, 'fail-install');
  const installs = () => (readFileSync(`${root}/var/log/fake-apt/calls`, 'utf8').match(/ install /g) ?? []).length;
  const retried = () => existsSync(`${root}/var/log/fake-apt/calls`) && installs() >= 2;
  await pollUntil(retried, 'the install to be tried again', 90_000);
  const messages = (await logOnceSeen(container, run, /^converge failed \(attempt 1\)/)).messages;
  const failed = messages.find((message) => message.startsWith('converge failed (attempt 1): '));
  assert.match(
    failed ?? messages.join('\n'),
    /^converge failed \(attempt 1\): docker(, [a-z-]+)* failed \(logged above\); next attempt in (2[4-9]|3[0-6]) s /,
  );
  assert.ok(
    messages.some((message) =>
      /^docker: apt-get .* install .* exited with 100: E: Unable to locate package docker\.io$/.test(message),
    ),
    messages.join('\n'),
  );
  const status = container.exec(['ecs-host-agent', 'status']);
  assert.equal(status.status, 1, 'the converge failed');
  assert.match(
    status.stdout,
    /^converge: (failed at .*: docker: apt-get .* 100: E: Unable to locate package docker\.io|running since .*)/m,
  );
  container.run(['systemctl', 'stop', 'ecs-host-agent']);
  assert.equal(unitResult(container).Result, 'success');
});

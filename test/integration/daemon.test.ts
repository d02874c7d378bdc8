/**
 * The daemon as systemd runs it. First a real `ecs-host-agent run` process on this machine with a notification
 * socket: periodic converge is off, so it changes nothing here, and so are updates; the spot watch asks a
 * loopback IMDS; the metrics job writes to a scratch file sink. What is tested is the process contract
 * (readiness, watchdog, one instance, jobs, SIGHUP, SIGTERM, status). Then the daemon under a real systemd, in a
 * container, stopped in the middle of a converge.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
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
import { LOCK_FILE } from '../../src/daemon/lock.ts';
import { STATUS_FILE } from '../../src/daemon/status-file.ts';
import { runCli } from '../support/cli.ts';
import { startNotifySocket } from '../support/notify-socket.ts';
import { type Container, bootContainer } from '../support/nspawn.ts';
import { CLI, REPO } from '../support/paths.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';

test('run: ready and watchdog over NOTIFY_SOCKET, one instance, SIGHUP keeps a good config, SIGTERM stops cleanly', async (t) => {
  requireRoot();
  const hadStatus = existsSync(STATUS_FILE);
  const previousStatus = hadStatus ? readFileSync(STATUS_FILE) : null;
  t.after(() => (previousStatus ? writeFileSync(STATUS_FILE, previousStatus) : rmSync(STATUS_FILE, { force: true })));
  const dir = scratchDir(t);
  const config = `${dir}/agent.env`;
  const settings = `UPDATES_CHECK_INTERVAL=off\nSPOT_INTERRUPTION_DRAIN=no\nMETRICS_SINK_FILE=${dir}/metrics.ndjson\nSPOOL_DIR=${dir}/spool\n`;
  writeFileSync(config, `CONVERGE_INTERVAL=off\n${settings}`);
  const { daemon, notify, stderr } = await startDaemon(t, config, { WATCHDOG_USEC: '400000' });
  await notify.waitFor(/WATCHDOG=1/);
  assert.match(readFileSync(LOCK_FILE, 'utf8'), new RegExp(`^${daemon.pid} \\d+\n$`));

  const second = await runCli(['run', '--config', config]);
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`already running as pid ${daemon.pid}`));

  await waitUntil(() => existsSync(`${dir}/metrics.ndjson`));
  const sample = JSON.parse(readFileSync(`${dir}/metrics.ndjson`, 'utf8').split('\n')[0] ?? '');
  assert.equal(typeof sample, 'object', 'the metrics job ran at start and wrote a sample');
  const status = await runCli(['status', '--json']);
  const reported = JSON.parse(status.stdout);
  assert.equal(reported.running, true);
  assert.equal(reported.pid, daemon.pid);
  await waitUntil(() => JSON.parse(readFileSync(STATUS_FILE, 'utf8')).tasks.metrics !== undefined);
  assert.equal(JSON.parse(readFileSync(STATUS_FILE, 'utf8')).tasks.metrics.result, 'ok');

  writeFileSync(config, `CONVERGE_INTERVAL=often\n${settings}`);
  daemon.kill('SIGHUP');
  await waitUntil(() =>
    /configuration not reloaded, keeping the running one: .*CONVERGE_INTERVAL="often"/.test(stderr()),
  );
  assert.equal(daemon.exitCode, null, 'a bad config on reload does not stop the daemon');

  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
  await notify.waitFor(/STOPPING=1/);
  assert.equal(existsSync(LOCK_FILE), false, 'the lock is released');
  assert.equal(JSON.parse(readFileSync(STATUS_FILE, 'utf8')).state, 'stopped');
  assert.equal((await runCli(['status'])).status, 1, 'status says the daemon is not running');
});

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
  const previousStatus = existsSync(STATUS_FILE) ? readFileSync(STATUS_FILE) : null;
  t.after(() => (previousStatus ? writeFileSync(STATUS_FILE, previousStatus) : rmSync(STATUS_FILE, { force: true })));
  const dir = scratchDir(t);
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
  const refused = await runCli(['run', '--config', bad], exportedBySystemd(bad));
  assert.equal(refused.status, 78);
  assert.match(refused.stderr, new RegExp(`${bad}:6: METRICS_INTERVAL="5s" `), 'the line, not "environment"');

  writeFileSync(config, ['ECS_CLUSTER=first', ...settings, ''].join('\n'));
  const { daemon, stderr } = await startDaemon(t, config, exportedBySystemd(config));
  const spot = () =>
    existsSync(STATUS_FILE) ? JSON.parse(readFileSync(STATUS_FILE, 'utf8')).tasks['spot-interruption'] : undefined;
  const lines = (pattern: RegExp) => stderr().split('\n').filter((line) => pattern.test(line));

  await waitUntil(() => spot()?.consecutiveFailures >= 3, 60_000);
  const failing = await runCli(['status']);
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
  await waitUntil(() => spot()?.result === 'ok');
  const firstOk = spot()?.startedAt;
  await waitUntil(() => spot()?.startedAt !== firstOk, 30_000);
  const quiet = lines(/spot-interruption: no spot interruption announced/);
  assert.equal(quiet.length, 1, `the recovery is news, the steady state after it is not:\n${stderr()}`);
  assert.match(
    quiet[0] ?? '',
    /^info: spot-interruption: no spot interruption announced \(recovered; failing since \S+\)/,
  );

  writeFileSync(config, ['ECS_CLUSTER=second', ...settings, ''].join('\n'));
  daemon.kill('SIGHUP');
  await waitUntil(() => /configuration reloaded \(SIGHUP\): ECS_CLUSTER changed; /.test(stderr()));

  const shown = await runCli(['status', '--config', bad]);
  assert.equal(shown.status, 78);
  assert.match(shown.stdout, new RegExp(`^running as pid ${daemon.pid} since `, 'm'));
  assert.match(shown.stdout, new RegExp(`^configuration error: ${bad}:6: METRICS_INTERVAL="5s" `, 'm'));

  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
});

/** `run` as a child process with a notification socket; resolves once it said READY=1. */
async function startDaemon(t: TestContext, config: string, extraEnv: Record<string, string>) {
  const notify = await startNotifySocket(`${dirname(config)}/notify.sock`);
  t.after(() => notify.close());
  const env = { PATH: process.env.PATH ?? '', NOTIFY_SOCKET: notify.path, ...extraEnv };
  const daemon: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', config], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  t.after(() => daemon.exitCode === null && daemon.kill('SIGKILL'));
  await notify.waitFor(/READY=1/).catch((error: Error) => {
    throw new Error(`${error.message}; the daemon said: ${stderr || '(nothing)'}`);
  });
  return { daemon, notify, stderr: () => stderr };
}

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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
  await waitUntil(() => existsSync(`${log}/install.pid`), 60_000);
  const installPid = readFileSync(`${log}/install.pid`, 'utf8').trim();
  const callsBeforeStop = readFileSync(`${log}/calls`, 'utf8');
  container.run(['systemctl', 'stop', 'ecs-host-agent']);
  assert.deepEqual(unitResult(container), { Result: 'success', ExecMainStatus: '0', ActiveState: 'inactive' });
  const stopped = (await logOnceSeen(container, first, /^stopping without waiting/)).messages;
  const stopping = stopped.findIndex((message) =>
    /^stopping: ([a-z-]+, )*converge(, [a-z-]+)* running; no new step .*; waiting up to 10 s for apt-get .*/.test(
      message,
    ),
  );
  assert.ok(stopping >= 0, stopped.join('\n'));
  assert.ok(
    stopped.some((message) =>
      /^stopping without waiting longer than 10 s for apt-get .* install .*: left to finish on its own$/.test(message),
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
  await waitUntil(() => existsSync(`${log}/update.pids`), 60_000);
  const updatePids = readFileSync(`${log}/update.pids`, 'utf8').trim().split(' ');
  container.run(['systemctl', 'stop', 'ecs-host-agent']);
  assert.deepEqual(unitResult(container), { Result: 'success', ExecMainStatus: '0', ActiveState: 'inactive' });
  assert.deepEqual(
    updatePids.map((pid) => alive(container, pid)),
    [false, false],
    'apt-get update and the child it forked are gone',
  );
  const stoppingUpdate = /^stopping: ([a-z-]+, )*converge(, [a-z-]+)* running; .*; stopping apt-get .* update/;
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
  await waitUntil(() => existsSync(`${root}/var/log/fake-apt/calls`) && installs() >= 2, 90_000);
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

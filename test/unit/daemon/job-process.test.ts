/**
 * The daemon's side of a job run in a process of its own, on the fake Host with a clock the test moves: the
 * process is scripted (its stdout lines, its exit), the daemon is the real one. What it proves: the job's log
 * lines, result, failure, crash and signal reach the log and status as an in-process run's would; the process
 * gets the running configuration (a reload's too) and the stop.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type Config, loadConfig } from '../../../src/core/config/load.ts';
import { CommandError } from '../../../src/core/errors.ts';
import type { Job } from '../../../src/daemon/job.ts';
import type { Logger } from '../../../src/core/logger.ts';
import { runDaemon } from '../../../src/daemon/daemon.ts';
import type { JobMessage, JobProcess, JobRequest } from '../../../src/daemon/job-process.ts';
import type { Notifier } from '../../../src/daemon/notify.ts';
import { readStatus } from '../../../src/daemon/status-file.ts';
import type { ExecOptions, ExecResult } from '../../../src/host/host.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { ManualClock, until } from '../metrics/manual-clock.ts';

const SPEC: JobProcess = {
  argv: ['/usr/lib/agent/node', '--max-opt=1', '/usr/lib/agent/main.mjs', 'job'],
  env: { A: 'b' },
};
const OS = { root: '/', arch: 'x86_64' } as unknown as OsFacts;

interface Run {
  readonly args: readonly string[];
  readonly options: ExecOptions;
  readonly request: JobRequest;
  /** Hands the daemon one stdout line of the process. */
  say(message: JobMessage | string): void;
  exit(result: Partial<ExecResult>): void;
  fail(error: Error): void;
}

/** A FakeHost on which every job process runs until the test ends it. */
class ProcessHost extends FakeHost {
  readonly runs: Run[] = [];

  override async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (file !== SPEC.argv[0]) return super.exec(file, args, options);
    return new Promise((resolve, reject) => {
      this.runs.push({
        args,
        options,
        request: JSON.parse(options.input ?? '') as JobRequest,
        say: (message) => options.onLine?.(typeof message === 'string' ? message : JSON.stringify(message)),
        exit: (result) => resolve({ exitCode: 0, stdout: '', stderr: '', ...result }),
        fail: reject,
      });
    });
  }
}

function ownProcessJob(name = 'users-sync'): Job {
  return {
    name,
    intervalMs: () => 60_000,
    ownProcess: true,
    run: async () => {
      throw new Error('runs in its own process, never in the daemon');
    },
  };
}

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ file: 'agent.env', fileText: null, env: { CONVERGE_INTERVAL: 'off', ...env }, flags: {} });
}

function daemonOn(host: ProcessHost, jobs: readonly Job[], next: Config = config()) {
  const stop = new AbortController();
  const clock = new ManualClock();
  const events: string[] = [];
  const record = (level: string) => (message: string) => void events.push(`${level}: ${message}`);
  const logger: Logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: () => {} };
  const notifier: Notifier = {
    ready: async () => void events.push('READY=1'),
    status: async () => {},
    stopping: async () => void events.push('STOPPING=1'),
    watchdogIntervalMs: null,
    watchdog: async () => {},
  };
  const reloads = new EventTarget();
  const done = runDaemon({
    host,
    pid: 4242,
    logger,
    notifier,
    clock,
    random: () => 0,
    jobs,
    jobProcess: SPEC,
    config: config(),
    osFacts: async () => OS,
    readConfig: async () => next,
    setLogLevel: () => {},
    reloads,
    signal: stop.signal,
  });
  return { stop, clock, events, done, reload: () => reloads.dispatchEvent(new Event('reload')) };
}

/** Like until, for a condition read from the fake Host's files. */
async function untilRead(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let turn = 0; !(await condition()); turn++) {
    if (turn === 1000) throw new Error(`${what}: still not so after 1000 turns of the event loop`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function finishedRecord(host: ProcessHost, name = 'users-sync') {
  await untilRead(async () => (await readStatus(host))?.tasks[name] !== undefined, `${name} in status`);
  return (await readStatus(host))?.tasks[name];
}

test("a job in its own process: its log lines are the task's, its result the task's record", async () => {
  const host = new ProcessHost();
  const inDaemon: Job = { name: 'metrics', intervalMs: () => 60_000, run: async () => ({ summary: 'sampled here' }) };
  const daemon = daemonOn(host, [ownProcessJob(), inDaemon]);
  await until(() => host.runs.length === 1, 'the job process to start');
  const [run] = host.runs;
  assert.ok(run);
  assert.deepEqual(run.args, [...SPEC.argv.slice(1), 'users-sync']);
  assert.equal(run.options.target, 'local');
  assert.deepEqual(run.options.env, SPEC.env);
  assert.equal(run.options.terminate?.aborted, false, 'the process is told of a stop');
  assert.equal(run.options.signal, undefined, 'never killed with its process group');
  assert.deepEqual(run.request, { job: 'users-sync', config: JSON.parse(JSON.stringify(config())), os: OS });

  run.say({ log: { level: 'info', message: 'users: create alice', fields: { uid: 1001 } } });
  run.say({ log: { level: 'warn', message: 'users: bob has no key' } });
  run.say('a line some library printed');
  await untilRead(
    async () => (await readStatus(host))?.current?.['users-sync']?.step === 'users-sync: a line some library printed',
    'the last line as the running step',
  );
  const details = { listed: 2, steps: [{ summary: 'create alice', done: true }] };
  run.say({ result: { summary: '2 listed, 1 step applied', details } });
  run.exit({ exitCode: 0 });
  const record = await finishedRecord(host);
  assert.equal(record?.result, 'ok');
  assert.equal(record?.summary, '2 listed, 1 step applied');
  assert.deepEqual(record?.details, details);
  assert.equal((await finishedRecord(host, 'metrics'))?.summary, 'sampled here', 'a job without ownProcess: here');
  const logged = ['info: users: create alice', 'warn: users: bob has no key'];
  logged.push('info: users-sync: 2 listed, 1 step applied');
  for (const line of logged) assert.ok(daemon.events.includes(line), `${line}\n${daemon.events.join('\n')}`);
  daemon.stop.abort();
  await daemon.done;
});

test('a failure the job reports, a crash and a signal kill: each reported as such, and retried', async () => {
  const host = new ProcessHost();
  const daemon = daemonOn(host, [ownProcessJob()]);
  const runs = async (count: number) => {
    daemon.clock.advance(3_600_000);
    await until(() => host.runs.length === count, `run ${count}`);
    return host.runs[count - 1] as Run;
  };
  await until(() => host.runs.length === 1, 'the first run');
  const failed = host.runs[0] as Run;
  const message = 'docker: apt-get install exited with 100: E: no docker.io';
  failed.say({ failure: { message, brief: 'docker failed (logged above)' } });
  failed.exit({ exitCode: 1 });
  const record = await finishedRecord(host);
  assert.equal(record?.result, 'failed');
  assert.equal(record?.summary, 'docker: apt-get install exited with 100: E: no docker.io');
  const brief = /^error: users-sync failed \(attempt 1\): docker failed \(logged above\); /;
  assert.ok(daemon.events.some((event) => brief.test(event)));

  const crashed = await runs(2);
  crashed.exit({ exitCode: 134, stderr: 'FATAL ERROR: Reached heap limit Allocation failed\n' });
  await untilRead(async () => (await readStatus(host))?.tasks['users-sync']?.consecutiveFailures === 2, 'the crash');
  assert.equal(
    (await readStatus(host))?.tasks['users-sync']?.summary,
    'users-sync: its process exited with 134 without a result: FATAL ERROR: Reached heap limit Allocation failed',
  );

  const killed = await runs(3);
  killed.fail(new CommandError(['node', 'job', 'users-sync'], undefined, 'half a line', { signal: 'SIGKILL' }));
  await untilRead(async () => (await readStatus(host))?.tasks['users-sync']?.consecutiveFailures === 3, 'the kill');
  const summary = (await readStatus(host))?.tasks['users-sync']?.summary;
  assert.equal(summary, 'users-sync: its process was killed by SIGKILL: half a line');

  const silent = await runs(4);
  silent.exit({ exitCode: 0 });
  await untilRead(async () => (await readStatus(host))?.tasks['users-sync']?.consecutiveFailures === 4, 'no result');
  assert.match((await readStatus(host))?.tasks['users-sync']?.summary ?? '', /exited with 0 without a result$/);
  daemon.stop.abort();
  await daemon.done;
});

test('SIGTERM: the job process is told, the daemon waits for it to end and records the run as stopped', async () => {
  const host = new ProcessHost();
  const daemon = daemonOn(host, [ownProcessJob()]);
  await until(() => host.runs.length === 1, 'the job process to start');
  const run = host.runs[0] as Run;
  daemon.stop.abort();
  assert.equal(run.options.terminate?.aborted, true);
  const waiting = /^info: stopping: users-sync running; .*; waiting up to 10 s for \S+\/node .* job users-sync /;
  await until(() => daemon.events.some((event) => waiting.test(event)), 'the stop line naming the job process');
  assert.ok(daemon.events.indexOf('STOPPING=1') >= 0);
  run.say({ log: { level: 'info', message: 'users-sync: stopping: no new step starts' } });
  run.say({ failure: { message: 'not started, the agent is stopping: useradd -m alice' } });
  run.exit({ exitCode: 1 });
  const end = await daemon.done;
  assert.deepEqual(end.leftRunning, []);
  const status = await readStatus(host);
  assert.equal(status?.state, 'stopped');
  assert.equal(status?.tasks['users-sync']?.result, 'stopped');
  assert.equal(host.runs.length, 1, 'no new process after the stop');
});

test('a reload reaches the next job process: it runs on the configuration the daemon applied', async () => {
  const host = new ProcessHost();
  const daemon = daemonOn(host, [ownProcessJob()], config({ USERS_SHELL: '/bin/sh' }));
  await until(() => host.runs.length === 1, 'the first run');
  assert.equal(host.runs[0]?.request.config.USERS_SHELL, '/bin/bash');
  host.runs[0]?.say({ result: { summary: 'nothing to do' } });
  host.runs[0]?.exit({ exitCode: 0 });
  await finishedRecord(host);
  daemon.reload();
  await untilRead(async () => (await readStatus(host))?.reload?.result === 'applied', 'the reload');
  daemon.clock.advance(60_000);
  await until(() => host.runs.length === 2, 'the next run');
  assert.equal(host.runs[1]?.request.config.USERS_SHELL, '/bin/sh');
  host.runs[1]?.exit({ exitCode: 0 });
  daemon.stop.abort();
  await daemon.done;
});

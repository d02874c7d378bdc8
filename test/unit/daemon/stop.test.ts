/**
 * SIGTERM in the middle of work, on the fake Host with a clock the test moves: STOPPING=1 at once, no new step
 * or command, what is safe to kill is killed, what is not is waited for a bounded time, then the daemon returns.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Action, Concern } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { CommandError, StoppingError } from '../../../src/core/errors.ts';
import { type Logger, silentLogger } from '../../../src/core/logger.ts';
import { applyAll } from '../../../src/core/runner.ts';
import { runDaemon, STOP_GRACE_MS } from '../../../src/daemon/daemon.ts';
import type { Job } from '../../../src/daemon/job.ts';
import type { Notifier } from '../../../src/daemon/notify.ts';
import { readStatus } from '../../../src/daemon/status-file.ts';
import { stoppableHost } from '../../../src/daemon/stoppable-host.ts';
import type { ExecOptions, ExecResult } from '../../../src/host/host.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { ManualClock, until } from '../metrics/manual-clock.ts';

interface Pending {
  readonly argv: string;
  readonly options: ExecOptions;
  finish(result?: Partial<ExecResult>): void;
}

/**
 * A FakeHost whose first apt-get runs until the test finishes it, or (when given a signal) until that aborts;
 * any later one returns at once, so a command started after the stop shows up instead of hanging the test.
 */
class SlowHost extends FakeHost {
  readonly pending: Pending[] = [];
  readonly killed: string[] = [];

  override async exec(file: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    if (file !== 'apt-get') return super.exec(file, args, options);
    this.execCalls.push({ file, args });
    if (this.execCalls.length > 1) return { exitCode: 0, stdout: '', stderr: '' };
    const argv = [file, ...args].join(' ');
    return new Promise((resolve, reject) => {
      this.pending.push({
        argv,
        options,
        finish: (result = {}) => resolve({ exitCode: 0, stdout: '', stderr: '', ...result }),
      });
      options.signal?.addEventListener('abort', () => {
        this.killed.push(argv);
        reject(new CommandError([file, ...args], undefined, '', { reason: 'was stopped: the agent is stopping' }));
      });
    });
  }
}

function recordingNotifier(events: string[]): Notifier {
  return {
    ready: async () => void events.push('READY=1'),
    status: async () => {},
    stopping: async () => void events.push('STOPPING=1'),
    watchdogIntervalMs: null,
    watchdog: async () => {},
  };
}

function recordingLogger(events: string[]): Logger {
  const record = (level: string) => (message: string) => void events.push(`${level}: ${message}`);
  return { error: record('error'), warn: record('warn'), info: record('info'), debug: () => {} };
}

/** A job that runs two package commands in a row, the first one interruptible or not. */
function installJob(interruptible: boolean): Job {
  return {
    name: 'users-sync',
    intervalMs: () => 60_000,
    async run({ host }) {
      await host.exec('apt-get', ['update'], { interruptible });
      await host.exec('apt-get', ['install', '-y', '--', 'sudo']);
      return { summary: 'both steps ran' };
    },
  };
}

function daemonOn(host: SlowHost, job: Job) {
  const stop = new AbortController();
  const clock = new ManualClock();
  const events: string[] = [];
  const config = loadConfig({ file: 'agent.env', fileText: null, env: { CONVERGE_INTERVAL: 'off' }, flags: {} });
  const done = runDaemon({
    host,
    pid: 4242,
    logger: recordingLogger(events),
    notifier: recordingNotifier(events),
    clock,
    random: () => 0,
    jobs: [job],
    config,
    osFacts: async () => ({}) as OsFacts,
    readConfig: async () => config,
    setLogLevel: () => {},
    reloads: new EventTarget(),
    signal: stop.signal,
  });
  return { stop, clock, events, done };
}

test('SIGTERM in an interruptible command: STOPPING=1 at once, it is killed, the next never starts', async () => {
  const host = new SlowHost();
  const daemon = daemonOn(host, installJob(true));
  await until(() => host.pending.length === 1, 'apt-get update to be running');
  assert.ok(host.pending[0]?.options.signal, 'the command got the stop signal: it may be killed');
  daemon.stop.abort();
  const end = await daemon.done;
  assert.deepEqual(end.leftRunning, []);
  assert.deepEqual(host.killed, ['apt-get update']);
  assert.deepEqual(host.commands(), ['apt-get update'], 'the install was never started');
  assert.ok(daemon.events.indexOf('STOPPING=1') >= 0);
  assert.ok(
    daemon.events.indexOf('STOPPING=1') < daemon.events.findIndex((event) => /stopped part-way/.test(event)),
    'STOPPING=1 came first',
  );
  assert.ok(
    daemon.events.some((event) =>
      /^info: stopping: users-sync running; no new step or task starts; stopping apt-get update \(running 0 s\)$/.test(
        event,
      ),
    ),
    daemon.events.join('\n'),
  );
  const status = await readStatus(host);
  assert.equal(status?.state, 'stopped');
  assert.equal(status?.tasks['users-sync']?.result, 'stopped');
  assert.match(status?.tasks['users-sync']?.summary ?? '', /apt-get update was stopped: the agent is stopping/);
  assert.deepEqual(status?.current, {});
});

test('SIGTERM in an install: waited for; when it ends within the grace the daemon ends, starting nothing', async () => {
  const host = new SlowHost();
  const daemon = daemonOn(host, installJob(false));
  await until(() => host.pending.length === 1, 'the first command to be running');
  daemon.stop.abort();
  await until(() => daemon.events.includes('STOPPING=1'), 'STOPPING=1');
  assert.equal(host.pending[0]?.options.signal, undefined, 'not interruptible: never given the stop signal');
  host.pending[0]?.finish();
  const end = await daemon.done;
  assert.deepEqual(end.leftRunning, []);
  assert.deepEqual(host.commands(), ['apt-get update'], 'nothing started after the stop');
  assert.equal((await readStatus(host))?.tasks['users-sync']?.result, 'stopped');
});

test('SIGTERM in an install that outlasts the grace: the daemon returns without it, naming it', async () => {
  const host = new SlowHost();
  const daemon = daemonOn(host, installJob(false));
  await until(() => host.pending.length === 1, 'the first command to be running');
  daemon.clock.advance(7000);
  daemon.stop.abort();
  await until(() => daemon.clock.waiting === 1, 'the daemon to wait for the install');
  daemon.clock.advance(STOP_GRACE_MS - 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(daemon.clock.waiting, 1, 'still waiting just before the grace is over');
  daemon.clock.advance(1);
  const end = await daemon.done;
  assert.deepEqual(
    end.leftRunning.map((command) => command.argv.join(' ')),
    ['apt-get update'],
  );
  assert.ok(
    daemon.events.some((event) =>
      /^warn: stopping without waiting longer than 10 s for apt-get update \(running \d+ s\): left to finish on /.test(
        event,
      ),
    ),
    daemon.events.join('\n'),
  );
  assert.equal((await readStatus(host))?.state, 'stopped');
  assert.deepEqual(host.killed, [], 'never killed');
});

test('the stoppable host: after the stop nothing starts through it, and a wait under way ends', async () => {
  const host = new SlowHost().answer('true', {});
  const stop = new AbortController();
  const { host: tasks } = stoppableHost(host, stop.signal);
  assert.equal((await tasks.exec('true', [])).exitCode, 0);
  let slept = false;
  const inner = { sleep: host.sleep.bind(host) };
  host.sleep = () => new Promise<void>(() => {}); // a wait that would never end by itself
  const waiting = tasks.sleep(60_000).then(
    () => (slept = true),
    (error: unknown) => error,
  );
  stop.abort();
  assert.ok((await waiting) instanceof StoppingError);
  assert.equal(slept, false);
  host.sleep = inner.sleep;
  await assert.rejects(tasks.exec('true', []), StoppingError);
  await assert.rejects(tasks.sleep(1), StoppingError);
  await assert.rejects(tasks.http({ url: 'http://127.0.0.1:1/' }), StoppingError);
  assert.deepEqual(host.commands(), ['true'], 'the refused command never reached the host');
  assert.equal(await tasks.readText('/nonexistent').catch(() => 'files still work'), 'files still work');
});

test('applyAll: once stopping, the next step is not started and is reported as such', async () => {
  const stop = new AbortController();
  const applied: string[] = [];
  const concern: Concern<null, Action> = {
    name: 'docker',
    enabled: () => true,
    gather: async () => null,
    plan: () => [
      { summary: 'install Docker', steps: [] },
      { summary: 'start docker.service', steps: [] },
    ],
    apply: async (action) => {
      applied.push(action.summary);
      stop.abort();
    },
  };
  const context = {
    host: new FakeHost(),
    config: loadConfig({ file: 'agent.env', fileText: null, env: {}, flags: {} }),
    os: {} as OsFacts,
    logger: silentLogger,
    resetAgentState: false,
  };
  const [outcome] = await applyAll([concern, { ...concern, name: 'ecs' }], context, stop.signal);
  assert.deepEqual(applied, ['install Docker']);
  assert.equal(outcome?.applied, 1);
  assert.equal(outcome?.error, 'not started, the agent is stopping: start docker.service');
});

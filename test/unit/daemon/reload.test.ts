/**
 * SIGHUP on the daemon, on the fake Host with a clock the test moves: the edited agent.env is read again and
 * applied to everything (LOG_LEVEL, which jobs run, their intervals, each run's config); a bad one is refused
 * and the running one kept; the log and `status` say which.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Context } from '../../../src/cli/context.ts';
import { status } from '../../../src/cli/status.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Logger, LogLevel } from '../../../src/core/logger.ts';
import { runDaemon } from '../../../src/daemon/daemon.ts';
import type { Job } from '../../../src/daemon/job.ts';
import type { Notifier } from '../../../src/daemon/notify.ts';
import { type DaemonStatus, STATUS_FILE } from '../../../src/daemon/status-file.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { ManualClock, until } from '../metrics/manual-clock.ts';

const FILE = '/etc/ecs-host-agent/agent.env';
const STAT = '4242 (node) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 777 1000 100\n';
const SILENT_NOTIFIER: Notifier = {
  ready: async () => {},
  status: async () => {},
  stopping: async () => {},
  watchdogIntervalMs: null,
  watchdog: async () => {},
};

/** Jobs that say which cluster their nth run saw: metrics every METRICS_INTERVAL, users only with USERS_SOURCE. */
function probeJobs(): Job[] {
  const probe = (name: string, intervalMs: Job['intervalMs']): Job => {
    let runs = 0;
    return { name, intervalMs, run: async (c) => ({ summary: `run ${++runs}: ${c.config.ECS_CLUSTER}` }) };
  };
  return [
    probe('metrics', (c) => c.config.METRICS_INTERVAL),
    probe('users-sync', (c) => (c.config.USERS_SOURCE === null ? null : c.config.USERS_SYNC_INTERVAL)),
  ];
}

/** The daemon on agent.env's text, which the test edits before it sends `reload` events. */
function daemonOn(text: string) {
  const host = new FakeHost({ [FILE]: text, '/proc/4242/stat': STAT });
  const clock = new ManualClock();
  const stop = new AbortController();
  const reloads = new EventTarget();
  const lines: string[] = [];
  const levels: LogLevel[] = [];
  const record = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: () => {} };
  const read = async () => loadConfig({ file: FILE, fileText: host.text(FILE) ?? null, env: {}, flags: {} });
  const runs = (name: string) => lines.filter((line) => line.startsWith(`info: ${name}: `));
  const done = read().then((config) =>
    runDaemon({
      host,
      pid: 4242,
      logger,
      notifier: SILENT_NOTIFIER,
      clock,
      random: () => 0.5,
      jobs: probeJobs(),
      config,
      osFacts: async () => ({}) as OsFacts,
      readConfig: read,
      setLogLevel: (level) => void levels.push(level),
      reloads,
      signal: stop.signal,
    }),
  );
  const statusNow = () => JSON.parse(host.text(STATUS_FILE) ?? '{}') as Partial<DaemonStatus>;
  /** Edits agent.env, sends the event a millisecond later, and returns the reload's log line once status has it. */
  const reload = async (next: string) => {
    host.putFile(FILE, next);
    clock.advance(1);
    const at = new Date(clock.now()).toISOString();
    reloads.dispatchEvent(new Event('reload'));
    await until(() => statusNow().reload?.at === at, 'the reload in status');
    return lines.filter((line) => /configuration (not )?reloaded/.test(line)).at(-1) ?? '';
  };
  const end = async () => {
    stop.abort();
    await done;
  };
  return { host, clock, lines, levels, runs, reload, statusNow, end };
}

/** `ecs-host-agent status` beside the daemon (which holds the lock as pid 4242). */
async function statusCommand(host: FakeHost): Promise<{ code: number; text: string }> {
  const output: string[] = [];
  const context = { host, json: false, out: (text: string) => void output.push(text) } as unknown as Context;
  const code = await status.run(context, {}, []);
  return { code, text: output.join('\n') };
}

test('a reload applies LOG_LEVEL, intervals, jobs on and off; a bad file is refused, the old one kept', async () => {
  const daemon = daemonOn('ECS_CLUSTER=first\nCONVERGE_INTERVAL=off\n');
  try {
    await until(() => daemon.runs('metrics').length === 1, 'the metrics run at start');
    assert.deepEqual(daemon.runs('metrics'), ['info: metrics: run 1: first']);

    const second = 'ECS_CLUSTER=second\nCONVERGE_INTERVAL=off\nLOG_LEVEL=debug\nMETRICS_INTERVAL=10s\n';
    const applied = await daemon.reload(`${second}USERS_SOURCE=file:/etc/users.json\n`);
    assert.equal(
      applied,
      'info: configuration reloaded (SIGHUP): ECS_CLUSTER, LOG_LEVEL, METRICS_INTERVAL, USERS_SOURCE changed; ' +
        'metrics every 10 s (was 60 s), users-sync turned on (every 5 min); ' +
        'every task uses the new values from its next run',
    );
    assert.deepEqual(daemon.levels, ['debug'], 'LOG_LEVEL applied at once');
    await until(() => daemon.runs('users-sync').length === 1, 'users-sync, turned on, to run at once');
    assert.deepEqual(daemon.runs('users-sync'), ['info: users-sync: run 1: second']);
    const appliedStatus = daemon.statusNow();
    assert.equal(appliedStatus.reload?.result, 'applied');
    // random 0.5: the new grid puts the next metrics run half an interval (5 s) after the reload.
    const reloadedAt = Date.parse(appliedStatus.reload?.at ?? '');
    assert.equal(appliedStatus.tasks?.metrics?.nextRunAt, new Date(reloadedAt + 5000).toISOString());
    daemon.clock.advance(5000);
    await until(() => daemon.runs('metrics').length === 2, 'metrics on its new interval, with the new config');
    assert.deepEqual(daemon.runs('metrics'), ['info: metrics: run 1: first', 'info: metrics: run 2: second']);

    const refused = await daemon.reload('ECS_CLUSTER=third\nCONVERGE_INTERVAL=off\nMETRICS_INTERVAL=5s\n');
    const kept = 'error: configuration not reloaded, keeping the running one: ';
    assert.ok(refused.startsWith(`${kept}${FILE}:3: METRICS_INTERVAL="5s" `), refused);
    assert.deepEqual(daemon.levels, ['debug'], 'nothing applied');
    const shown = await statusCommand(daemon.host);
    assert.equal(shown.code, 1, 'status fails while the daemon does not run on what the file says');
    assert.match(
      shown.text,
      new RegExp(
        `^reload: refused at \\S+: ${FILE}:3: METRICS_INTERVAL="5s" .*; running on the configuration applied at ` +
          `${new Date(reloadedAt).toISOString()}$`,
        'm',
      ),
    );
    daemon.clock.advance(10_000);
    await until(() => daemon.runs('metrics').length === 3, 'metrics, still every 10 s on the running config');
    assert.equal(daemon.runs('metrics').at(-1), 'info: metrics: run 3: second');

    const off = await daemon.reload(second);
    assert.match(off, /: USERS_SOURCE changed; users-sync turned off; /);
    await until(() => daemon.statusNow().tasks?.['users-sync'] === undefined, 'users-sync to leave status');
    assert.deepEqual(Object.keys(daemon.statusNow().tasks ?? {}), ['metrics'], 'a job turned off is no longer shown');
    assert.match((await statusCommand(daemon.host)).text, /^reload: applied at \S+: USERS_SOURCE changed; users-sync/m);

    assert.equal(await daemon.reload(second), 'info: configuration reloaded (SIGHUP): nothing changed');
  } finally {
    await daemon.end();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Context } from '../../../src/cli/context.ts';
import { status } from '../../../src/cli/status.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { LOCK_FILE } from '../../../src/daemon/lock.ts';
import { STATUS_FILE } from '../../../src/daemon/status-file.ts';
import { FakeHost } from '../../support/fake-host.ts';

const STAT = '4242 (node) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 777 1000 100\n';

function contextFor(host: FakeHost, json = false): Context & { output: string[] } {
  const output: string[] = [];
  const config = loadConfig({ file: 'agent.env', fileText: null, env: {}, flags: {} });
  return {
    config,
    host,
    logger: silentLogger,
    json,
    output,
    out: (text) => void output.push(text),
    reloadConfig: async () => config,
    setLogLevel: () => {},
  };
}

const daemonStatus = {
  pid: 4242,
  startedAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:05:00.000Z',
  state: 'running',
  tasks: {
    metrics: {
      name: 'metrics',
      result: 'ok',
      summary: '3 samples spooled (HTTP 503)',
      startedAt: '2026-11-22T10:05:00.000Z',
      durationMs: 4,
      consecutiveFailures: 0,
      nextRunAt: '2026-11-22T10:06:00.000Z',
      details: { spool: { pendingSamples: 3, pendingBytes: 2048, droppedSamples: 1, rejectedSamples: 0 } },
    },
  },
};

test('status shows each task and the spool backlog, and exits 0 while the daemon runs and all is well', async () => {
  const host = new FakeHost({
    [STATUS_FILE]: JSON.stringify(daemonStatus),
    [LOCK_FILE]: '4242 777\n',
    '/proc/4242/stat': STAT,
  });
  const context = contextFor(host);
  assert.equal(await status.run(context, {}, []), 0);
  const text = context.output.join('\n');
  assert.match(text, /^running as pid 4242 since 2026-11-22T10:00:00\.000Z$/m);
  assert.match(text, /^metrics: ok at .*: 3 samples spooled \(HTTP 503\); next 2026-11-22T10:06:00\.000Z$/m);
  assert.match(text, /^spool: 3 samples waiting \(2048 bytes\), 1 dropped, 0 rejected$/m);
});

test('a daemon whose lock belongs to another process start is reported as not running (exit 1)', async () => {
  const host = new FakeHost({
    [STATUS_FILE]: JSON.stringify(daemonStatus),
    [LOCK_FILE]: '4242 111\n',
    '/proc/4242/stat': STAT,
  });
  const context = contextFor(host, true);
  assert.equal(await status.run(context, {}, []), 1);
  assert.equal(JSON.parse(context.output.join('')).running, false);
});

test('no status file: the daemon never ran (exit 1); a damaged one is an error naming it', async () => {
  const none = contextFor(new FakeHost());
  assert.equal(await status.run(none, {}, []), 1);
  assert.match(none.output.join(''), /has not run on this machine/);
  await assert.rejects(
    status.run(contextFor(new FakeHost({ [STATUS_FILE]: '{"pid":' })), {}, []),
    /status\.json is damaged/,
  );
});

test('a task in progress is shown with how long it has run and the last step it logged', async () => {
  const converging = {
    ...daemonStatus,
    current: {
      converge: {
        startedAt: '2026-11-22T11:58:00.000Z',
        step: 'apt-get install -y -- docker.io exited with 100 (Temporary failure resolving); attempt 2 of 4 in 5 s',
      },
    },
  };
  const host = new FakeHost({
    [STATUS_FILE]: JSON.stringify(converging),
    [LOCK_FILE]: '4242 777\n',
    '/proc/4242/stat': STAT,
  });
  const context = contextFor(host);
  await status.run(context, {}, []);
  assert.match(
    context.output.join('\n'),
    /^converge: running since 2026-11-22T11:58:00\.000Z \(2 min\): apt-get install .*; attempt 2 of 4 in 5 s$/m,
  );
});

test('on a bad config, status still shows the daemon, then the configuration error, and exits 78', async () => {
  const host = new FakeHost({
    [STATUS_FILE]: JSON.stringify(daemonStatus),
    [LOCK_FILE]: '4242 777\n',
    '/proc/4242/stat': STAT,
  });
  const configError = new ConfigError(
    '/etc/ecs-host-agent/agent.env:3: METRICS_INTERVAL="5s" is out of range; allowed: 10s to 1h',
  );
  const text = { ...contextFor(host), configError };
  assert.equal(await status.run(text, {}, []), 78);
  assert.match(
    text.output.join('\n'),
    /^running as pid 4242 since .*\n(.*\n)*configuration error: \/etc\/ecs-host-agent\/agent\.env:3: METRICS_INTERVAL/,
  );
  const json = { ...contextFor(host, true), configError };
  assert.equal(await status.run(json, {}, []), 78);
  const reported = JSON.parse(json.output.join(''));
  assert.equal(reported.running, true);
  assert.match(reported.configError, /^\/etc\/ecs-host-agent\/agent\.env:3: /);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Context } from '../../../src/cli/context.ts';
import { status } from '../../../src/cli/status.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { LOCK_FILE } from '../../../src/daemon/lock.ts';
import { STATUS_FILE } from '../../../src/daemon/status-file.ts';
import { FakeHost } from '../../support/fake-host.ts';

const STAT = '4242 (node) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 777 1000 100\n';

function contextFor(host: FakeHost, json = false): Context & { output: string[] } {
  const output: string[] = [];
  const config = loadConfig({ file: 'agent.env', fileText: null, env: {}, flags: {} });
  return { config, host, logger: silentLogger, json, output, out: (text) => void output.push(text), reloadConfig: async () => config };
}

const daemonStatus = {
  pid: 4242,
  startedAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:05:00.000Z',
  state: 'running',
  tasks: {
    metrics: {
      name: 'metrics', result: 'ok', summary: '3 samples spooled (HTTP 503)', startedAt: '2026-11-22T10:05:00.000Z', durationMs: 4,
      consecutiveFailures: 0, nextRunAt: '2026-11-22T10:06:00.000Z',
      details: { spool: { pendingSamples: 3, pendingBytes: 2048, droppedSamples: 1, rejectedSamples: 0 } },
    },
  },
};

test('status shows each task and the spool backlog, and exits 0 while the daemon runs and all is well', async () => {
  const host = new FakeHost({ [STATUS_FILE]: JSON.stringify(daemonStatus), [LOCK_FILE]: '4242 777\n', '/proc/4242/stat': STAT });
  const context = contextFor(host);
  assert.equal(await status.run(context, {}, []), 0);
  const text = context.output.join('\n');
  assert.match(text, /^running as pid 4242 since 2026-11-22T10:00:00\.000Z$/m);
  assert.match(text, /^metrics: ok at .*: 3 samples spooled \(HTTP 503\); next 2026-11-22T10:06:00\.000Z$/m);
  assert.match(text, /^spool: 3 samples waiting \(2048 bytes\), 1 dropped, 0 rejected$/m);
});

test('a daemon whose lock belongs to another process start is reported as not running (exit 1)', async () => {
  const host = new FakeHost({ [STATUS_FILE]: JSON.stringify(daemonStatus), [LOCK_FILE]: '4242 111\n', '/proc/4242/stat': STAT });
  const context = contextFor(host, true);
  assert.equal(await status.run(context, {}, []), 1);
  assert.equal(JSON.parse(context.output.join('')).running, false);
});

test('no status file: the daemon never ran (exit 1); a damaged one is an error naming it', async () => {
  const none = contextFor(new FakeHost());
  assert.equal(await status.run(none, {}, []), 1);
  assert.match(none.output.join(''), /has not run on this machine/);
  await assert.rejects(status.run(contextFor(new FakeHost({ [STATUS_FILE]: '{"pid":' })), {}, []), /status\.json is damaged/);
});

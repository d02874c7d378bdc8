/**
 * Under the unit, EnvironmentFile= exports every key of agent.env, so the agent sees each one twice: in the file
 * and in its environment. Errors must name the file's line, and a reload must read the file again.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { keysExportedFromFile, loadConfig } from '../../../src/core/config/load.ts';

const FILE = '/etc/ecs-host-agent/agent.env';
const TEXT = 'ECS_CLUSTER=prod\n# metrics\nMETRICS_INTERVAL=5s\n';

test('a bad value systemd exported from agent.env is reported at its line, not as "environment"', () => {
  assert.throws(
    () => loadConfig({ file: FILE, fileText: TEXT, env: { ECS_CLUSTER: 'prod', METRICS_INTERVAL: '5s' }, flags: {} }),
    (error: Error) => error.message.startsWith(`${FILE}:3: METRICS_INTERVAL="5s" `),
  );
});

test("an environment value that differs from the file is the environment's, and named so", () => {
  assert.throws(
    () => loadConfig({ file: FILE, fileText: 'METRICS_INTERVAL=60s\n', env: { METRICS_INTERVAL: '5s' }, flags: {} }),
    (error: Error) => error.message.startsWith('environment: METRICS_INTERVAL="5s" '),
  );
  const config = loadConfig({ file: FILE, fileText: 'ECS_CLUSTER=prod\n', env: { ECS_CLUSTER: 'staging' }, flags: {} });
  assert.equal(config.ECS_CLUSTER, 'staging');
  assert.equal(config.origins.ECS_CLUSTER, 'environment');
});

test("a value set to the default in the environment, with no file line, stays the environment's", () => {
  const config = loadConfig({ file: FILE, fileText: null, env: { LOG_LEVEL: 'info' }, flags: {} });
  assert.equal(config.origins.LOG_LEVEL, 'environment');
});

test("the keys a reload takes from the file again: those the environment holds with the file's value", () => {
  const env = { ECS_CLUSTER: 'prod', METRICS_INTERVAL: '30s', USERS_SYNC_INTERVAL: '10m', PATH: '/usr/bin' };
  const config = loadConfig({ file: FILE, fileText: 'ECS_CLUSTER=prod\nMETRICS_INTERVAL=30s\n', env, flags: {} });
  assert.deepEqual(config.origins.METRICS_INTERVAL, `${FILE}:2`);
  assert.deepEqual(keysExportedFromFile(config, env).sort(), ['ECS_CLUSTER', 'METRICS_INTERVAL']);
});

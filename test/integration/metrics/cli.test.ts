import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { validate } from '../../../src/control/json-schema.ts';
import { sampleSchema } from '../../../src/control/schemas.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { MetricsRunner } from '../../../src/jobs/metrics.ts';
import { runCli } from '../../support/cli.ts';
import { CLI } from '../../support/paths.ts';
import { scratchDir } from '../../support/scratch.ts';
import { freePort } from './free-port.ts';

/** The real CLI on this machine; the control endpoint is the shipped reference receiver on loopback, IMDS is off. */
function baseEnv(dir: string): Record<string, string> {
  return {
    CONTROL_IDENTITY: 'no',
    INTROSPECTION_URL: 'http://127.0.0.1:9',
    METRICS_DOCKER_SOCKET: join(dir, 'none.sock'),
    SPOOL_DIR: join(dir, 'spool'),
  };
}

test('metrics --once --json prints one sample that fits the protocol schema', async (t) => {
  const result = await runCli(['metrics', '--once', '--json', '--config', '/dev/null'], baseEnv(scratchDir(t)));
  assert.equal(result.status, 0, result.stderr);
  const sample = JSON.parse(result.stdout);
  assert.deepEqual(validate(sampleSchema, sample), []);
  assert.ok(sample.disks.some((disk: { mount: string }) => disk.mount === '/'));
  const text = await runCli(['metrics', '--once', '--config', '/dev/null'], baseEnv(scratchDir(t)));
  assert.match(text.stdout, /^cpu +user [\d.]+%/m);
  assert.equal((await runCli(['metrics', '--config', '/dev/null'])).status, 2, 'without --once: usage');
});

test('a token file others can read stops delivery with exit 78 and the fix', async (t) => {
  const dir = scratchDir(t);
  const token = join(dir, 'control.token');
  writeFileSync(token, 'secret-token-value\n', { mode: 0o644 });
  chmodSync(token, 0o644);
  const result = await runCli(['metrics', '--once', '--deliver', '--config', '/dev/null'], {
    ...baseEnv(dir),
    CONTROL_URL: 'http://127.0.0.1:9',
    CONTROL_TOKEN_FILE: token,
  });
  assert.equal(result.status, 78, result.stderr);
  assert.match(result.stderr, new RegExp(`chmod 600 ${token}`));
  assert.doesNotMatch(result.stderr + result.stdout, /secret-token-value/);
});

test('without CONTROL_URL the sample goes to the local newline-JSON sink', async (t) => {
  const dir = scratchDir(t);
  const sink = join(dir, 'log', 'metrics.ndjson');
  const result = await runCli(['metrics', '--once', '--deliver', '--json', '--config', '/dev/null'], {
    ...baseEnv(dir),
    METRICS_SINK_FILE: sink,
  });
  assert.equal(result.status, 0, result.stderr);
  const lines = readFileSync(sink, 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  assert.equal(JSON.parse(lines[0] as string).id, JSON.parse(result.stdout).id);
});

test('control-server receives what metrics --once --deliver sends, with the token checked', async (t) => {
  const dir = scratchDir(t);
  const token = join(dir, 'control.token');
  writeFileSync(token, 'trial-token\n', { mode: 0o600 });
  const server = spawn(
    process.execPath,
    [
      CLI,
      'control-server',
      '--listen',
      `127.0.0.1:${await freePort()}`,
      '--token-file',
      token,
      '--data-dir',
      join(dir, 'data'),
      '--json',
      '--config',
      '/dev/null',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  t.after(() => server.kill('SIGTERM'));
  let serverErr = '';
  server.stderr.on('data', (chunk: Buffer) => void (serverErr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).url);
    });
    server.on('exit', (code) => reject(new Error(`control-server exited with ${code}`)));
  });
  const env = { ...baseEnv(dir), CONTROL_URL: url, CONTROL_TOKEN_FILE: token };
  const sent = await runCli(['metrics', '--once', '--deliver', '--json', '--config', '/dev/null'], env);
  assert.equal(sent.status, 0, sent.stderr);
  assert.match(sent.stderr, /sample taken; delivery to http:\/\/127\.0\.0\.1:\d+: ok, last delivered at \S+; 0 /);
  const print = ['control-server', '--data-dir', join(dir, 'data'), '--print', 'samples', '--config', '/dev/null'];
  const printed = await runCli(print);
  assert.equal(printed.status, 0, printed.stderr);
  const stored = printed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  assert.deepEqual(
    stored.map((s) => s.id),
    [JSON.parse(sent.stdout).id],
  );
  const hostStatus = JSON.parse(readFileSync(join(dir, 'data', `status-${stored[0].hostId}.json`), 'utf8'));
  const { pendingBytes } = hostStatus.spool;
  const sentFromSpool = { pendingSamples: 1, pendingBytes, droppedSamples: 0, rejectedSamples: 0 };
  assert.deepEqual(hostStatus.spool, sentFromSpool, 'sent from the spool');
  assert.doesNotMatch(serverErr, /ExperimentalWarning|SQLite is an experimental/, 'no warning from node:sqlite');
  writeFileSync(join(dir, 'wrong.token'), 'wrong\n', { mode: 0o600 });
  const refused = await runCli(['metrics', '--once', '--deliver', '--config', '/dev/null'], {
    ...env,
    CONTROL_TOKEN_FILE: join(dir, 'wrong.token'),
    SPOOL_DIR: join(dir, 'spool2'),
  });
  assert.equal(refused.status, 0, 'a refused token spools, it does not fail the run');
  assert.match(refused.stderr, /HTTP 401: the endpoint refused the credentials/);
  assert.match(refused.stderr, /1 sample waiting; next attempt not before/);
});

test('the Prometheus endpoint serves the latest sample on loopback', async (t) => {
  const dir = scratchDir(t);
  const config = loadConfig({
    file: 'agent.env',
    fileText: null,
    env: {
      ...baseEnv(dir),
      METRICS_SINK_FILE: join(dir, 'm.ndjson'),
      METRICS_PROMETHEUS_LISTEN: String(await freePort()),
    },
    flags: {},
  });
  const host = new RealHost('/');
  const runner = await MetricsRunner.create(host, config, silentLogger);
  t.after(() => runner.close());
  const server = await runner.serve(host, config);
  assert.ok(server);
  assert.equal((await fetch(`${server.url}/metrics`)).status, 503, 'nothing sampled yet');
  await runner.step();
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /version=0\.0\.4/);
  assert.match(await response.text(), /^ecs_host_memory_bytes\{kind="total"\} \d+$/m);
  assert.equal((await fetch(`${server.url}/other`)).status, 404);
});

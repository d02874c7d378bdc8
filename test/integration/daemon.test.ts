/**
 * The daemon as systemd runs it: a real `ecs-host-agent run` process with a
 * notification socket. Periodic converge is off, so it changes nothing on this
 * machine, and so are updates and the spot-interruption watch (it would ask IMDS);
 * the metrics job writes to a scratch file sink. What is tested is the
 * process contract (readiness, watchdog, one instance, jobs, SIGHUP, SIGTERM, status).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { LOCK_FILE } from '../../src/daemon/lock.ts';
import { STATUS_FILE } from '../../src/daemon/status-file.ts';
import { runCli } from '../support/cli.ts';
import { startNotifySocket } from '../support/notify-socket.ts';
import { CLI } from '../support/paths.ts';
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
  const notify = await startNotifySocket(`${dir}/notify.sock`);
  t.after(() => notify.close());

  const env = { PATH: process.env.PATH ?? '', NOTIFY_SOCKET: notify.path, WATCHDOG_USEC: '400000' };
  const daemon: ChildProcess = spawn(process.execPath, [CLI, 'run', '--config', config], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  t.after(() => daemon.exitCode === null && daemon.kill('SIGKILL'));

  await notify.waitFor(/READY=1/).catch((error: Error) => {
    throw new Error(`${error.message}; the daemon said: ${stderr || '(nothing)'}`);
  });
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
  await waitUntil(() => /configuration not reloaded, keeping the running one: .*CONVERGE_INTERVAL="often"/.test(stderr));
  assert.equal(daemon.exitCode, null, 'a bad config on reload does not stop the daemon');

  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr);
  await notify.waitFor(/STOPPING=1/);
  assert.equal(existsSync(LOCK_FILE), false, 'the lock is released');
  assert.equal(JSON.parse(readFileSync(STATUS_FILE, 'utf8')).state, 'stopped');
  assert.equal((await runCli(['status'])).status, 1, 'status says the daemon is not running');
});

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

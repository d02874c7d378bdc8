/**
 * The daemon's jobs that load the AWS SDK run as short-lived processes of the same binary: here the users sync
 * from SSM (moto_server on loopback, behind a proxy that can hold a call) in a real `ecs-host-agent run`, in a
 * mount namespace with scratch copies bound over /etc, /home and /var/log (test/support/agent-dirs.ts): the
 * accounts it makes exist only there. What is tested is what an operator relies on: status, `status --json`
 * and the log say what they said when the job ran inside the daemon; a job process that is killed is reported
 * as killed; SIGTERM reaches the job process, which starts nothing more, and the daemon exits.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import type { DaemonStatus } from '../../src/daemon/status-file.ts';
import { accountBinds, inBinds } from '../support/agent-dirs.ts';
import type { CliResult } from '../support/cli.ts';
import { MOTO_REGION, motoSsm, startMoto } from '../support/moto.ts';
import { OFFLINE_ENV } from '../support/offline-env.ts';
import { CLI } from '../support/paths.ts';
import { pollUntil } from '../support/poll.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';
import { type SsmProxy, startSsmProxy } from './users/ssm-proxy.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFhSrbSjXvN0IgcRQ4ojNkXTYGgcsJ1BFVmNnKcE2dNc daemon-jobs';

interface Scene {
  readonly dir: string;
  readonly binds: [string, string][];
  readonly proxy: SsmProxy;
  put(name: string, value: string): Promise<unknown>;
  /** Adds a user to the source and moves its generation, so the next sync reads it. */
  addUser(name: string, generation: string): Promise<void>;
  passwd(): string;
  status(): DaemonStatus | undefined;
}

async function scene(t: TestContext): Promise<Scene> {
  requireRoot();
  const moto = await startMoto();
  t.after(() => moto.stop());
  const proxy = await startSsmProxy(moto.endpoint);
  t.after(() => proxy.close());
  const ssm = motoSsm(moto);
  const put = (name: string, value: string) =>
    ssm.putParameter({ Name: name, Value: value, Type: 'String', Overwrite: true });
  const dir = scratchDir(t, 'eha-daemon-jobs-');
  const binds = accountBinds(dir);
  return {
    dir,
    binds,
    proxy,
    put,
    async addUser(name, generation) {
      await put(`/ecs/users/${name}`, JSON.stringify({ sshPublicKeys: [KEY] }));
      await put('/ecs/users', generation);
    },
    passwd: () => readFileSync(`${dir}/etc/passwd`, 'utf8'),
    status: () =>
      existsSync(`${dir}/state/status.json`)
        ? (JSON.parse(readFileSync(`${dir}/state/status.json`, 'utf8')) as DaemonStatus)
        : undefined,
  };
}

function environment(proxy: SsmProxy): Record<string, string> {
  const path = process.env.PATH ?? '/usr/bin:/bin';
  return { PATH: path, ...OFFLINE_ENV, AWS_REGION: MOTO_REGION, AWS_ENDPOINT_URL_SSM: proxy.endpoint };
}

function startDaemon(t: TestContext, scene: Scene, logLevel = 'info') {
  const config = `${scene.dir}/agent.env`;
  const settings = [
    'CONVERGE_INTERVAL=off',
    'UPDATES_CHECK_INTERVAL=off',
    'SPOT_INTERRUPTION_DRAIN=no',
    `METRICS_SINK_FILE=${scene.dir}/metrics.ndjson`,
    `SPOOL_DIR=${scene.dir}/spool`,
    'USERS_SOURCE=ssm:/ecs/users',
    'USERS_SYNC_INTERVAL=30s',
    `LOG_LEVEL=${logLevel}`,
  ];
  writeFileSync(config, `${settings.join('\n')}\n`);
  const [file, argv] = inBinds(scene.binds, [process.execPath, CLI, 'run', '--config', config]);
  const stdio: ['ignore', 'ignore', 'pipe'] = ['ignore', 'ignore', 'pipe'];
  const daemon: ChildProcess = spawn(file, argv, { env: environment(scene.proxy), stdio });
  let stderr = '';
  daemon.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  t.after(() => daemon.exitCode === null && daemon.kill('SIGKILL'));
  return { daemon, stderr: () => stderr };
}

/** The daemon's job processes: its children running the agent's `job` command. */
function jobProcesses(daemon: ChildProcess): number[] {
  const pid = daemon.pid as number;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  return children.filter((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0').includes('job');
    } catch {
      return false;
    }
  });
}

function cliIn(scene: Scene, args: readonly string[]): Promise<CliResult> {
  const [file, argv] = inBinds(scene.binds, [process.execPath, CLI, ...args]);
  return new Promise((resolve) => {
    const options = { encoding: 'utf8', env: environment(scene.proxy), timeout: 120_000 } as const;
    execFile(file, argv, options, (error, stdout, stderr) => {
      const status = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ status, stdout, stderr });
    });
  });
}

test('users from SSM in a job process: accounts made, status, status --json and the log as before', async (t) => {
  const at = await scene(t);
  await at.addUser('alice', '1');
  const { daemon, stderr } = startDaemon(t, at, 'debug');
  await pollUntil(() => at.status()?.tasks['users-sync'] !== undefined, 'the first users sync', 60_000);
  const record = at.status()?.tasks['users-sync'];
  assert.equal(record?.result, 'ok', stderr());
  assert.match(record?.summary ?? '', /^users from ssm:\/ecs\/users: 1 listed, \d+ steps? applied/);
  assert.equal((record?.details as { listed?: number } | undefined)?.listed, 1);
  assert.match(at.passwd(), /^alice:/m, 'the account is in the scratch /etc');
  assert.doesNotMatch(readFileSync('/etc/passwd', 'utf8'), /^alice:/m, "and not in this machine's");

  const log = stderr();
  assert.match(log, /^debug: exec \(argv=\[.*"job","users-sync"\]\)$/m, 'the daemon started a job process');
  assert.match(log, /^info: users: create 1 account: alice$/m, "the job process's log lines reach the daemon's");
  assert.match(log, /^debug: exec \(argv=\["newusers"\]\)$/m, 'its debug lines too, at LOG_LEVEL=debug');
  assert.match(log, /^info: users-sync: users from ssm:\/ecs\/users: 1 listed/m);

  const shown = await cliIn(at, ['status', '--json']);
  assert.equal(shown.status, 0, shown.stderr);
  const json = JSON.parse(shown.stdout) as { tasks: Record<string, { result: string; summary: string }> };
  assert.equal(json.tasks['users-sync']?.result, 'ok');
  assert.equal(json.tasks['users-sync']?.summary, record?.summary);
  const text = await cliIn(at, ['status']);
  assert.match(text.stdout, /^users-sync: ok at .*: users from ssm:\/ecs\/users: 1 listed/m);

  assert.deepEqual(jobProcesses(daemon), [], 'the job process ended with its run');
  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
});

/** A daemon whose first users sync is caught in its first SSM call, in its job process. */
async function caughtInASync(t: TestContext) {
  const at = await scene(t);
  await at.addUser('alice', '1');
  const held = at.proxy.hold('GetParameter');
  const { daemon, stderr } = startDaemon(t, at);
  await held.arrived;
  const [job] = jobProcesses(daemon);
  assert.ok(job, 'the sync runs in a process of its own');
  return { at, held, daemon, stderr, job };
}

test('a job process killed by SIGKILL is reported as killed; the daemon goes on', async (t) => {
  const { at, held, daemon, stderr, job } = await caughtInASync(t);
  process.kill(job, 'SIGKILL');
  held.release();
  await pollUntil(() => at.status()?.tasks['users-sync'] !== undefined, 'the killed sync in status', 30_000);
  const record = at.status()?.tasks['users-sync'];
  assert.equal(record?.result, 'failed');
  assert.match(record?.summary ?? '', /^users-sync: its process was killed by SIGKILL/);
  assert.match(stderr(), /^error: users-sync failed \(attempt 1\): users-sync: its process was killed by SIGKILL/m);
  assert.doesNotMatch(at.passwd(), /^alice:/m, 'the killed run made nothing');
  const text = await cliIn(at, ['status']);
  assert.equal(text.status, 1, 'a failed task');
  assert.match(text.stdout, /^users-sync: failed at .*: users-sync: its process was killed by SIGKILL/m);
  assert.equal(daemon.exitCode, null, 'the daemon runs on');
  daemon.kill('SIGTERM');
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
});

test('SIGTERM in a job: the job process is told and starts nothing more; the daemon and it exit', async (t) => {
  const { at, held, daemon, stderr, job } = await caughtInASync(t);
  daemon.kill('SIGTERM');
  await pollUntil(() => /^info: users-sync: stopping: no new step starts$/m.test(stderr()), 'the job told of the stop');
  assert.match(stderr(), /^info: stopping: users-sync running; .*waiting up to 10 s for .* job users-sync/m);
  held.release();
  const [code] = await once(daemon, 'exit');
  assert.equal(code, 0, stderr());
  assert.equal(existsSync(`/proc/${job}`), false, 'the job process is gone');
  const record = at.status()?.tasks['users-sync'];
  assert.equal(record?.result, 'stopped', stderr());
  assert.match(record?.summary ?? '', /the agent is stopping/);
  assert.doesNotMatch(at.passwd(), /^alice:/m, 'no account after the stop');
  assert.equal(at.status()?.state, 'stopped');
});

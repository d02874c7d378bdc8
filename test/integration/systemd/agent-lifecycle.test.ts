/**
 * The installed .deb under a real systemd (PID 1 in a container with no network): the daemon reaches READY,
 * reloads, stops cleanly in the middle of a converge, refuses a bad agent.env once (78, no restart loop) naming
 * the line, and the package's removal and purge leave exactly what the README says. One container, used in
 * order by the steps below.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import {
  AGENT_ENV,
  AGENT_UNIT,
  agentEnv,
  bootWithAgent,
  buildAgentDeb,
  DECOMMISSION_UNIT,
  journal,
  STATUS_FILE,
  unitProcesses,
  unitProperties,
  waitFor,
} from '../../support/agent-container.ts';
import type { Container } from '../../support/nspawn.ts';

/** The bound a user relies on when a spot interruption leaves two minutes. */
const STOP_BOUND_MS = 15_000;
const STATE = ['ActiveState', 'SubState', 'Result', 'ExecMainStatus', 'NRestarts', 'MainPID'];

test('the installed package under systemd as PID 1: ready, reload, stop, bad agent.env, remove, purge', async (t) => {
  const deb = await buildAgentDeb(t);
  const container = await bootWithAgent(t, deb, { agentEnv: agentEnv() });

  await t.test('the units are clean for systemd-analyze verify on a minimal Debian (no man, no procps)', () => {
    for (const missing of ['/usr/bin/kill', '/bin/kill', '/usr/bin/man'])
      assert.equal(existsSync(`${container.root}${missing}`), false, `no ${missing} here`);
    const verified = container.exec([
      'systemd-analyze',
      'verify',
      `/lib/systemd/system/${AGENT_UNIT}`,
      `/lib/systemd/system/${DECOMMISSION_UNIT}`,
    ]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.equal(verified.stderr.trim(), '');
  });

  await t.test('the agent starts at boot and is active: systemd got READY=1 (Type=notify)', async () => {
    const state = await waitFor('the agent to be active', 60_000, () => {
      const seen = unitProperties(container, AGENT_UNIT, STATE);
      return seen.ActiveState === 'active' ? seen : undefined;
    });
    assert.equal(state.SubState, 'running');
    assert.equal(state.NRestarts, '0');
    assert.equal(
      unitProperties(container, DECOMMISSION_UNIT, ['ActiveState']).ActiveState,
      'active',
      'the poweroff hook is armed',
    );
  });

  await t.test('systemctl reload signals the daemon, which stays up and reads its configuration again', () => {
    const before = unitProperties(container, AGENT_UNIT, STATE);
    const reloadsBefore = countReloads(container);
    const reloaded = container.exec(['systemctl', 'reload', AGENT_UNIT]);
    assert.equal(reloaded.status, 0, reloaded.stderr);
    const after = unitProperties(container, AGENT_UNIT, STATE);
    assert.equal(after.ActiveState, 'active');
    assert.equal(after.MainPID, before.MainPID, 'reloaded, not restarted');
    assert.ok(
      countReloads(container) > reloadsBefore,
      `the daemon logged the reload:\n${journal(container, AGENT_UNIT).slice(-2000)}`,
    );
  });

  await t.test(
    'systemctl stop in the middle of a converge: within 15 s, Result=success, nothing of it left running',
    async () => {
      // With no network, the converge's apt-get retries its downloads for minutes.
      await waitFor('a converge running apt-get', 60_000, () =>
        unitProcesses(container, AGENT_UNIT).some((process) => / (apt-get|http)$/.test(process)) ? true : undefined,
      );
      const started = Date.now();
      const stopped = container.exec(['systemctl', 'stop', AGENT_UNIT], { timeoutMs: 180_000 });
      const tookMs = Date.now() - started;
      assert.equal(stopped.status, 0, stopped.stderr);
      const state = unitProperties(container, AGENT_UNIT, STATE);
      assert.equal(state.Result, 'success', `${JSON.stringify(state)}\n${journal(container, AGENT_UNIT).slice(-3000)}`);
      assert.equal(state.ActiveState, 'inactive');
      assert.ok(tookMs < STOP_BOUND_MS, `systemctl stop took ${tookMs} ms`);
      // A task that is still exiting shows in cgroup.procs as pid 0 for a moment: allow the kernel that moment.
      const left = await waitFor('the unit to hold no process', 5_000, () => {
        const processes = unitProcesses(container, AGENT_UNIT);
        return processes.length === 0 ? processes : undefined;
      }).catch(() => unitProcesses(container, AGENT_UNIT));
      assert.deepEqual(left, [], 'no package manager left holding the dpkg lock');
    },
  );

  await t.test(
    'the hardened decommission unit runs the agent when stopped, which sees no poweroff and does nothing',
    () => {
      writeFileSync(`${container.root}${AGENT_ENV}`, agentEnv('DECOMMISSION_ON_SHUTDOWN=yes'), { mode: 0o600 });
      assert.equal(container.exec(['systemctl', 'stop', DECOMMISSION_UNIT]).status, 0);
      const state = unitProperties(container, DECOMMISSION_UNIT, ['ActiveState', 'Result']);
      assert.deepEqual(state, { ActiveState: 'inactive', Result: 'success' });
      assert.match(
        journal(container, DECOMMISSION_UNIT),
        /decommission at shutdown skipped: the host is not shutting down/,
      );
      assert.equal(container.exec(['systemctl', 'start', DECOMMISSION_UNIT]).status, 0);
    },
  );

  await t.test('a bad agent.env: exit 78 once, no restart loop, the message names the file and line', async () => {
    writeFileSync(`${container.root}${AGENT_ENV}`, `${agentEnv()}# too often\nMETRICS_INTERVAL=5s\n`, { mode: 0o600 });
    const badLine = agentEnv().split('\n').length + 1;
    const started = container.exec(['systemctl', 'start', AGENT_UNIT]);
    assert.notEqual(started.status, 0, 'the start job fails');
    const state = unitProperties(container, AGENT_UNIT, STATE);
    assert.equal(state.ExecMainStatus, '78');
    assert.equal(state.Result, 'exit-code');
    assert.equal(state.SubState, 'failed', 'failed for good, not waiting to restart (RestartPreventExitStatus=78)');
    assert.equal(state.NRestarts, '0');
    const named = journal(container, AGENT_UNIT)
      .split('\n')
      .filter((line) => line.includes(`${AGENT_ENV}:${badLine}`) && line.includes('METRICS_INTERVAL'));
    assert.ok(
      named.length > 0,
      `a message names ${AGENT_ENV}:${badLine}:\n${journal(container, AGENT_UNIT).slice(-2000)}`,
    );
  });

  await t.test(
    'apt-get remove: the agent and its poweroff hook stopped, nothing failed, runtime files gone',
    async () => {
      // A running agent that has converged what it could: the package mirror is gone now, so its converge fails
      // fast (and apt is free for the removal), after writing ecs-init's configuration.
      writeFileSync(`${container.root}${AGENT_ENV}`, agentEnv(), { mode: 0o600 });
      rmSync(`${container.root}/etc/apt/sources.list`, { force: true });
      rmSync(`${container.root}/var/lib/apt/lists`, { recursive: true, force: true });
      assert.equal(container.exec(['systemctl', 'start', AGENT_UNIT]).status, 0);
      await waitFor('a converge to write /etc/ecs/ecs.config', 60_000, () =>
        existsSync(`${container.root}/etc/ecs/ecs.config`) ? true : undefined,
      );
      assert.ok(exists(container, '/run/ecs-host-agent/agent.pid'), 'the daemon keeps its lock under /run');
      const removed = aptGet(container, ['remove', 'ecs-host-agent']);
      assert.equal(removed.status, 0, removed.stderr);
      assert.equal(failedUnits(container), '', 'nothing in systemctl --failed');
      for (const unit of [AGENT_UNIT, DECOMMISSION_UNIT])
        assert.equal(unitProperties(container, unit, ['ActiveState']).ActiveState, 'inactive', unit);
      assert.equal(exists(container, '/run/ecs-host-agent'), false);
      assert.equal(exists(container, '/usr/bin/ecs-host-agent'), false);
      assert.ok(exists(container, AGENT_ENV), 'remove keeps the configuration');
      assert.ok(exists(container, STATUS_FILE), 'remove keeps the state');
    },
  );

  await t.test("apt-get purge: what is the agent's goes, what it configured for the host stays (README)", () => {
    const purged = aptGet(container, ['purge', 'ecs-host-agent']);
    assert.equal(purged.status, 0, purged.stderr);
    for (const path of [
      '/etc/ecs-host-agent',
      '/var/lib/ecs-host-agent',
      '/var/log/ecs-host-agent',
      '/var/cache/ecs-host-agent',
      '/run/ecs-host-agent',
      '/usr/lib/ecs-host-agent',
    ]) {
      assert.equal(exists(container, path), false, `${path} is gone`);
    }
    assert.ok(
      exists(container, '/etc/ecs/ecs.config'),
      "ecs-init's configuration stays: the ECS agent still runs with it",
    );
    assert.equal(failedUnits(container), '');
  });
});

/** Inside the container: /run and /tmp there are its own mounts, not the directories of its root. */
function exists(container: Container, path: string): boolean {
  return container.exec(['test', '-e', path]).status === 0;
}

function failedUnits(container: Container): string {
  return container.run(['systemctl', 'list-units', '--failed', '--all', '--no-legend', '--plain']).trim();
}

function countReloads(container: Container): number {
  return journal(container, AGENT_UNIT)
    .split('\n')
    .filter((line) => /"message":"[^"]*reload/i.test(line)).length;
}

function aptGet(container: Container, args: readonly string[]) {
  return container.exec(['apt-get', '-y', '-q', '-o', 'DPkg::Lock::Timeout=120', ...args], {
    env: { DEBIAN_FRONTEND: 'noninteractive' },
    timeoutMs: 180_000,
  });
}

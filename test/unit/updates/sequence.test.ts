/** The reboot sequence's decisions on a FakeHost, a scripted ECS and an in-memory fleet lock. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { FleetLock, SlotHold } from '../../../src/aws/fleet-lock.ts';
import { rebootWanted } from '../../../src/concerns/updates/apply.ts';
import { createUpdatesJob } from '../../../src/concerns/updates/job.ts';
import { SEQUENCE_RECORD_FILE, SequenceRecordError } from '../../../src/concerns/updates/reboot/record.ts';
import { resumeRebootSequence, runRebootSequence, type SequenceDeps, SequenceError } from '../../../src/concerns/updates/reboot/sequence.ts';
import { updateSettings } from '../../../src/concerns/updates/settings.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FakeHost, jsonResponse } from '../../support/fake-host.ts';
import { type EcsCall, scriptedEcsClient } from '../ecs-agent/scripted-ecs.ts';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const INSTANCE_ID = 'i-0123456789abcdef0';
const BOOT_ID = '/proc/sys/kernel/random/boot_id';
const INTROSPECTION = 'http://127.0.0.1:51678';
/** 2026-11-22T12:00Z, FakeHost's clock, is a Sunday. */
const SUNDAY_NOON = { UPDATE_WINDOW: 'Sun 11:00-13:00' };

function config(values: Record<string, string> = {}) {
  return loadConfig({ file: 'agent.env', fileText: null, env: { ECS_CLUSTER: 'prod', ...SUNDAY_NOON, ...values }, flags: {} });
}

class Ecs {
  status = 'ACTIVE';
  running = 0;
  agentConnected = true;
  readonly calls: EcsCall[] = [];
  readonly client = scriptedEcsClient((call) => {
    if (call.operation === 'UpdateContainerInstancesState') this.status = call.input.status as string;
    return { status: 200, body: { containerInstances: [{ containerInstanceArn: ARN, status: this.status, runningTasksCount: this.running, pendingTasksCount: 0, agentConnected: this.agentConnected }], failures: [], taskArns: [], tasks: [] } };
  }, this.calls);
}

class MemoryLock implements FleetLock {
  held: SlotHold | null = null;
  async acquire(holder: string): Promise<SlotHold | null> {
    if (this.held && this.held.holder !== holder) return null;
    this.held = { name: '/lock/prod/0/0', slot: 0, generation: 0, holder, expiresAt: '2026-11-22T14:00:00.000Z' };
    return this.held;
  }
  async holds(holder: string) {
    return this.held?.holder === holder;
  }
  async release(holder: string) {
    if (this.held?.holder !== holder) return 0;
    this.held = null;
    return 1;
  }
  async list() {
    return this.held ? [this.held] : [];
  }
}

interface World {
  readonly host: FakeHost;
  readonly ecs: Ecs;
  readonly lock: MemoryLock;
  deps(values?: Record<string, string>, reboot?: () => Promise<void>): SequenceDeps;
}

function world(): World {
  const host = new FakeHost({ [BOOT_ID]: 'boot-1\n' });
  host.onHttp((request) => (request.url === `${INTROSPECTION}/v1/metadata` ? jsonResponse(200, { Cluster: 'prod', ContainerInstanceArn: ARN, Version: 'v1.99.0' }) : undefined));
  const ecs = new Ecs();
  const lock = new MemoryLock();
  const deps = (values: Record<string, string> = {}, reboot = async () => host.putFile(BOOT_ID, 'boot-2\n')): SequenceDeps => ({
    host,
    logger: silentLogger,
    ecs: ecs.client,
    lock,
    settings: updateSettings(config(values)),
    identity: async () => ({ cluster: 'prod', containerInstanceArn: ARN, instanceId: INSTANCE_ID }),
    reboot,
  });
  return { host, ecs, lock, deps };
}

test('outside the window nothing is touched', async () => {
  const { host, ecs, lock, deps } = world();
  const outcome = await runRebootSequence(deps({ UPDATE_WINDOW: 'Sat 03:00-05:00' }), 'test');
  assert.equal(outcome.outcome, 'outside-window');
  assert.match(outcome.message, /waiting for the window Sat 03:00-05:00 \(UTC\)/);
  assert.deepEqual(ecs.calls, []);
  assert.equal(lock.held, null);
  assert.equal(host.text(SEQUENCE_RECORD_FILE), undefined);
});

test('a reboot command that fails rolls everything back and reports the failure', async () => {
  const { host, ecs, lock, deps } = world();
  const failing = deps({}, async () => {
    throw new Error('systemctl reboot exited with 1');
  });
  await assert.rejects(runRebootSequence(failing, 'test'), /systemctl reboot exited with 1/);
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(lock.held, null);
  assert.equal(host.text(SEQUENCE_RECORD_FILE), undefined);
});

test('after the reboot, an agent that does not reconnect keeps the instance DRAINING, the slot held and the record for the next try', async () => {
  const { host, ecs, lock, deps } = world();
  assert.equal((await runRebootSequence(deps(), 'test')).outcome, 'rebooting');
  ecs.agentConnected = false;

  await assert.rejects(resumeRebootSequence(deps({ REGISTRATION_TIMEOUT: '1m' })), SequenceError);
  assert.equal(ecs.status, 'DRAINING');
  assert.equal(lock.held?.holder, INSTANCE_ID);
  assert.match(host.text(SEQUENCE_RECORD_FILE) ?? '', /"phase": "rebooting"/);

  ecs.agentConnected = true;
  assert.equal((await resumeRebootSequence(deps()))?.outcome, 'rebooted');
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(lock.held, null);
});

test('a record that is not the agent\'s is refused, naming the file', async () => {
  const { host, deps } = world();
  host.putFile(SEQUENCE_RECORD_FILE, '{"phase":"sleeping"}');
  await assert.rejects(resumeRebootSequence(deps()), (error: unknown) => error instanceof SequenceRecordError && /reboot-sequence\.json has phase "sleeping"/.test(error.message));
});

test('REBOOT_LOCK_TTL must outlive DRAIN_TIMEOUT', () => {
  assert.throws(() => updateSettings(config({ REBOOT_LOCK_TTL: '30m', DRAIN_TIMEOUT: '30m' })), (error: unknown) => error instanceof ConfigError && /REBOOT_LOCK_TTL=30m must be longer than DRAIN_TIMEOUT=30m/.test(error.message));
  assert.throws(() => config({ REBOOT_LOCK_PATH: '/aws/mine' }), /REBOOT_LOCK_PATH="\/aws\/mine" is not an SSM parameter path/);
});

test('reboot policy: never, if-needed on the distribution\'s signal, always after any change', () => {
  const none = { changed: [], rebootRequired: false };
  const changed = { changed: [{ package: 'openssl', from: '1', to: '2' }], rebootRequired: false };
  const required = { changed: [], rebootRequired: true };
  assert.deepEqual(['never', 'if-needed', 'always'].map((policy) => [none, changed, required].map((report) => rebootWanted(policy as 'never', report))), [
    [false, false, false],
    [false, false, true],
    [false, true, true],
  ]);
});

function jobContext(host: FakeHost, values: Record<string, string>): ConcernContext & { signal: AbortSignal } {
  const os = { root: '/', release: { id: 'debian', versionId: '12', prettyName: 'Debian 12', source: '/etc/os-release' }, support: { status: 'supported', packageManager: 'apt' } } as unknown as OsFacts;
  return { host, config: config(values), os, logger: silentLogger, resetAgentState: false, signal: new AbortController().signal };
}

test('the job: resumes a recorded sequence first; outside the window it only checks; inside it applies and reboots', async () => {
  const { host, ecs, lock, deps } = world();
  const unattended = 'Package: unattended-upgrades\nStatus: install ok installed\nVersion: 2.9\n\n';
  host.putFile('/var/lib/dpkg/status', `${unattended}Package: openssl\nStatus: install ok installed\nVersion: 1\n`);
  let upgraded = false;
  host.answer('apt-get', { exitCode: 0 }).onExec((file, args) => {
    if (file !== 'unattended-upgrade') return undefined;
    if (args.includes('--dry-run')) return { exitCode: 0, stdout: upgraded ? '' : 'Packages that will be upgraded: openssl\n', stderr: '' };
    upgraded = true;
    host.putFile('/var/lib/dpkg/status', `${unattended}Package: openssl\nStatus: install ok installed\nVersion: 2\n`);
    host.putFile('/var/run/reboot-required', '');
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  // A reboot starts a new boot, with an empty /var/run.
  const reboot = async () => {
    host.putFile(BOOT_ID, 'boot-2\n');
    await host.rm('/var/run/reboot-required');
  };
  const job = createUpdatesJob(async (_context, settings) => ({ ...deps({}, reboot), settings }));

  // A sequence the daemon's last run left while draining.
  host.putFile(SEQUENCE_RECORD_FILE, JSON.stringify({ phase: 'draining', startedAt: '2026-11-22T11:00:00Z', bootId: 'boot-1', instanceId: INSTANCE_ID, cluster: 'prod', containerInstanceArn: ARN, drainedByAgent: true, reason: 'test' }));
  ecs.status = 'DRAINING';
  await lock.acquire(INSTANCE_ID);

  const outside = await job.run(jobContext(host, { UPDATE_WINDOW: 'Sat 03:00-05:00' }));
  assert.match(outside.summary, /rolled back.*1 security update\(s\) pending; applied in the window Sat 03:00-05:00/);
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(lock.held, null);
  assert.equal(upgraded, false, 'nothing applied outside the window');

  const inside = await job.run(jobContext(host, {}));
  assert.match(inside.summary, /1 security update\(s\) applied; rebooting/);
  assert.equal(ecs.status, 'DRAINING');
  assert.equal(host.text(BOOT_ID), 'boot-2\n', 'the injected reboot ran');

  const afterBoot = await job.run(jobContext(host, {}));
  assert.match(afterBoot.summary, /^rebooted for the distribution requires a reboot; instance ACTIVE again, slot released; 0 security update\(s\) applied/);
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(lock.held, null);
});

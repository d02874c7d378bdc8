/** The reboot sequence's decisions on a FakeHost, a scripted ECS and the fleet lock on an in-memory SSM. */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createFleetLock } from '../../../src/aws/fleet-lock.ts';
import { rebootWanted } from '../../../src/concerns/updates/apply.ts';
import { createUpdatesJob } from '../../../src/jobs/updates.ts';
import { SEQUENCE_RECORD_FILE, SequenceRecordError } from '../../../src/concerns/updates/reboot/record.ts';
import {
  resumeRebootSequence,
  runRebootSequence,
  type SequenceDeps,
  SequenceError,
} from '../../../src/concerns/updates/reboot/sequence.ts';
import { updateSettings } from '../../../src/concerns/updates/settings.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { ConfigError } from '../../../src/core/errors.ts';
import { type Logger, silentLogger } from '../../../src/core/logger.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FakeHost, jsonResponse } from '../../support/fake-host.ts';
import { recordingLogger } from '../control/fixtures.ts';
import { type EcsCall, scriptedEcs } from '../ecs-agent/scripted-ecs.ts';
import { FakeSsm } from './fake-ssm.ts';

const ARN = 'arn:aws:ecs:eu-west-1:123456789012:container-instance/prod/0123456789abcdef0123456789abcdef';
const INSTANCE_ID = 'i-0123456789abcdef0';
const BOOT_ID = '/proc/sys/kernel/random/boot_id';
const INTROSPECTION = 'http://127.0.0.1:51678';
/** 2026-11-22T12:00Z, FakeHost's clock, is a Sunday. */
const SUNDAY_NOON = { UPDATE_WINDOW: 'Sun 11:00-13:00' };

function config(values: Record<string, string> = {}) {
  return loadConfig({
    file: 'agent.env',
    fileText: null,
    env: { ECS_CLUSTER: 'prod', ...SUNDAY_NOON, ...values },
    flags: {},
  });
}

class Ecs {
  status = 'ACTIVE';
  /** Tasks on the instance, asked at each poll. */
  running: () => number = () => 0;
  agentConnected: () => boolean = () => true;
  onStatus: (status: string) => void = () => {};
  readonly calls: EcsCall[] = [];
  readonly client = scriptedEcs((call) => {
    if (call.operation === 'UpdateContainerInstancesState') this.onStatus((this.status = call.input.status as string));
    const [status, runningTasksCount, agentConnected] = [this.status, this.running(), this.agentConnected()];
    const instance = { containerInstanceArn: ARN, status, runningTasksCount, pendingTasksCount: 0, agentConnected };
    const containerInstances = [instance];
    return { status: 200, body: { containerInstances, failures: [], taskArns: [], tasks: [] } };
  }, this.calls);
}

const LOCK_PATH = '/ecs-host-agent/reboot-lock';
const CLAIM = `${LOCK_PATH}/prod/0/0`;

/** The real fleet lock on an in-memory SSM whose clock runs with the FakeHost's. */
function fleetLock(host: FakeHost, ssm: FakeSsm, ttlMs = config().REBOOT_LOCK_TTL, logger: Logger = silentLogger) {
  const timing = { monotonicMs: () => host.now().getTime(), sleep: (ms: number) => host.sleep(ms), random: () => 0.5 };
  return createFleetLock(ssm.client, { path: LOCK_PATH, cluster: 'prod', slots: 1, ttlMs }, timing, logger);
}

interface World {
  readonly host: FakeHost;
  readonly ecs: Ecs;
  readonly ssm: FakeSsm;
  readonly logger: Logger & { lines: string[] };
  /** The holder of the slot, or null when it is free (released or never taken). */
  holder(): string | null;
  deps(values?: Record<string, string>, reboot?: () => Promise<void>): SequenceDeps;
}

function world(): World {
  const host = new FakeHost({ [BOOT_ID]: 'boot-1\n' });
  host.onHttp((request) =>
    request.url === `${INTROSPECTION}/v1/metadata`
      ? jsonResponse(200, { Cluster: 'prod', ContainerInstanceArn: ARN, Version: 'v1.99.0' })
      : undefined,
  );
  const ecs = new Ecs();
  const ssm = new FakeSsm(() => host.now().getTime());
  const logger = recordingLogger();
  const holder = () => {
    const claims = ssm
      .names()
      .filter((name) => /\/\d+\/\d+$/.test(name))
      .map((name) => ssm.valueOf(name));
    return (claims.find((value) => typeof value?.instanceId === 'string')?.instanceId as string | undefined) ?? null;
  };
  const deps = (
    values: Record<string, string> = {},
    reboot = async () => host.putFile(BOOT_ID, 'boot-2\n'),
  ): SequenceDeps => ({
    host,
    logger,
    ecs: ecs.client,
    lock: fleetLock(host, ssm, config(values).REBOOT_LOCK_TTL, logger),
    settings: updateSettings(config(values)),
    identity: async () => ({ cluster: 'prod', containerInstanceArn: ARN, instanceId: INSTANCE_ID }),
    reboot,
  });
  return { host, ecs, ssm, logger, holder, deps };
}

test('outside the window nothing is touched', async () => {
  const { host, ecs, holder, deps } = world();
  const outcome = await runRebootSequence(deps({ UPDATE_WINDOW: 'Sat 03:00-05:00' }), 'test');
  assert.equal(outcome.outcome, 'outside-window');
  assert.match(outcome.message, /waiting for the window Sat 03:00-05:00 \(UTC\)/);
  assert.deepEqual(ecs.calls, []);
  assert.equal(holder(), null);
  assert.equal(host.text(SEQUENCE_RECORD_FILE), undefined);
});

test('a reboot command that fails rolls everything back and reports the failure', async () => {
  const { host, ecs, holder, deps } = world();
  const failing = deps({}, async () => {
    throw new Error('systemctl reboot exited with 1');
  });
  await assert.rejects(runRebootSequence(failing, 'test'), /systemctl reboot exited with 1/);
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(holder(), null);
  assert.equal(host.text(SEQUENCE_RECORD_FILE), undefined);
});

test(
  'after the reboot, an agent that does not reconnect keeps the instance DRAINING, the slot held ' +
    'and the record for the next try',
  async () => {
    const { host, ecs, holder, deps } = world();
    assert.equal((await runRebootSequence(deps(), 'test')).outcome, 'rebooting');
    ecs.agentConnected = () => false;

    await assert.rejects(resumeRebootSequence(deps({ REGISTRATION_TIMEOUT: '1m' })), SequenceError);
    assert.equal(ecs.status, 'DRAINING');
    assert.equal(holder(), INSTANCE_ID);
    assert.match(host.text(SEQUENCE_RECORD_FILE) ?? '', /"phase": "rebooting"/);

    ecs.agentConnected = () => true;
    assert.equal((await resumeRebootSequence(deps()))?.outcome, 'rebooted');
    assert.equal(ecs.status, 'ACTIVE');
    assert.equal(holder(), null);
  },
);

test("a record that is not the agent's is refused, naming the file", async () => {
  const { host, deps } = world();
  host.putFile(SEQUENCE_RECORD_FILE, '{"phase":"sleeping"}');
  await assert.rejects(
    resumeRebootSequence(deps()),
    (error: unknown) =>
      error instanceof SequenceRecordError && /reboot-sequence\.json has phase "sleeping"/.test(error.message),
  );
});

test("REBOOT_LOCK_TTL must cover drain, reboot and the agent's return where it reboots (78, naming each)", () => {
  const refused = (values: Record<string, string>, message: string) =>
    assert.throws(
      () => config(values),
      (error: unknown) => error instanceof ConfigError && error.exitCode === 78 && error.message.startsWith(message),
    );
  refused(
    { REBOOT_LOCK_TTL: '45m' },
    'environment: REBOOT_LOCK_TTL=45m must be longer than DRAIN_TIMEOUT=30m (default) + ' +
      'REBOOT_TIMEOUT=10m (default) + REGISTRATION_TIMEOUT=5m (default) = 45m: ',
  );
  refused({ DRAIN_TIMEOUT: '2h' }, 'default: REBOOT_LOCK_TTL=2h must be longer than DRAIN_TIMEOUT=2h (environment) + ');
  assert.equal(config({ REBOOT_LOCK_TTL: '46m' }).REBOOT_LOCK_TTL, 46 * 60_000);
  assert.equal(config({ DRAIN_TIMEOUT: '2h', REBOOT_POLICY: 'never' }).DRAIN_TIMEOUT, 7_200_000, 'no reboot, no check');
  assert.throws(
    () => config({ REBOOT_LOCK_PATH: '/aws/mine' }),
    /REBOOT_LOCK_PATH="\/aws\/mine" is not an SSM parameter path/,
  );
});

test("reboot policy: never, if-needed on the distribution's signal, always after any change", () => {
  const none = { changed: [], rebootRequired: false };
  const changed = { changed: [{ package: 'openssl', from: '1', to: '2' }], rebootRequired: false };
  const required = { changed: [], rebootRequired: true };
  assert.deepEqual(
    ['never', 'if-needed', 'always'].map((policy) =>
      [none, changed, required].map((report) => rebootWanted(policy as 'never', report)),
    ),
    [
      [false, false, false],
      [false, false, true],
      [false, true, true],
    ],
  );
});

function jobContext(host: FakeHost, values: Record<string, string>): ConcernContext & { signal: AbortSignal } {
  const os = {
    root: '/',
    release: { id: 'debian', versionId: '12', prettyName: 'Debian 12', source: '/etc/os-release' },
    support: { status: 'supported', packageManager: 'apt' },
  } as unknown as OsFacts;
  return {
    host,
    config: config(values),
    os,
    logger: silentLogger,
    resetAgentState: false,
    signal: new AbortController().signal,
  };
}

test(
  'the job: resumes a recorded sequence first; outside the window it only checks; inside it ' + 'applies and reboots',
  async () => {
    const { host, ecs, ssm, holder, deps } = world();
    const unattended = 'Package: unattended-upgrades\nStatus: install ok installed\nVersion: 2.9\n\n';
    host.putFile('/var/lib/dpkg/status', `${unattended}Package: openssl\nStatus: install ok installed\nVersion: 1\n`);
    let upgraded = false;
    host.answer('apt-get', { exitCode: 0 }).onExec((file, args) => {
      if (file !== 'unattended-upgrade') return undefined;
      if (args.includes('--dry-run'))
        return { exitCode: 0, stdout: upgraded ? '' : 'Packages that will be upgraded: openssl\n', stderr: '' };
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
    host.putFile(
      SEQUENCE_RECORD_FILE,
      JSON.stringify({
        phase: 'draining',
        startedAt: '2026-11-22T11:00:00Z',
        bootId: 'boot-1',
        instanceId: INSTANCE_ID,
        cluster: 'prod',
        containerInstanceArn: ARN,
        drainedByAgent: true,
        reason: 'test',
      }),
    );
    ecs.status = 'DRAINING';
    await fleetLock(host, ssm).acquire(INSTANCE_ID);

    const outside = await job.run(jobContext(host, { UPDATE_WINDOW: 'Sat 03:00-05:00' }));
    assert.match(outside.summary, /rolled back.*1 security update\(s\) pending; applied in the window Sat 03:00-05:00/);
    assert.equal(ecs.status, 'ACTIVE');
    assert.equal(holder(), null);
    assert.equal(upgraded, false, 'nothing applied outside the window');

    const inside = await job.run(jobContext(host, {}));
    assert.match(inside.summary, /1 security update\(s\) applied; rebooting/);
    assert.equal(ecs.status, 'DRAINING');
    assert.equal(host.text(BOOT_ID), 'boot-2\n', 'the injected reboot ran');

    const afterBoot = await job.run(jobContext(host, {}));
    const rebooted = 'rebooted for the distribution requires a reboot; instance ACTIVE again, slot released';
    assert.ok(afterBoot.summary.startsWith(`${rebooted}; 0 security update(s) applied`), afterBoot.summary);
    assert.equal(ecs.status, 'ACTIVE');
    assert.equal(holder(), null);
  },
);

const MINUTE = 60_000;
const OTHER = 'i-0ffffffffffffffff';
/** Drain, reboot and the agent's return fit in 45m with the defaults. */
const TTL_50M = { REBOOT_LOCK_TTL: '50m' };

/** Another host's claim of the next generation: as when an operator forced the slot, or this host lapsed. */
function takeOver(ssm: FakeSsm): void {
  ssm.put(`${LOCK_PATH}/prod/0/1`, JSON.stringify({ instanceId: OTHER, ttlSeconds: 3000 }));
}

function drainingFor(host: FakeHost, ms: number): () => number {
  const until = host.now().getTime() + ms;
  return () => (host.now().getTime() < until ? 1 : 0);
}

test('a holder renews its slot while it drains and just before it reboots; a contender is kept out', async () => {
  const { host, ecs, ssm, holder, deps } = world();
  ecs.running = drainingFor(host, 25 * MINUTE);
  const contender = fleetLock(host, ssm);
  const takenAt = host.now().getTime();
  let atReboot: { sinceRenewalMs: number; version: number } | null = null;
  const reboot = async () => {
    const claim = ssm.parameters.get(CLAIM);
    atReboot = { sinceRenewalMs: ssm.serverNowMs - (claim?.modifiedMs ?? 0), version: claim?.version ?? 0 };
    await host.sleep(8 * MINUTE);
    host.putFile(BOOT_ID, 'boot-2\n');
  };

  assert.equal((await runRebootSequence(deps(TTL_50M, reboot), 'test')).outcome, 'rebooting');
  assert.deepEqual(atReboot, { sinceRenewalMs: 1, version: 3 }, 'renewed a third of the TTL in, and just before');
  assert.equal((await contender.acquire(OTHER)).acquired, false);
  const back = host.now().getTime() + 4 * MINUTE;
  ecs.agentConnected = () => host.now().getTime() >= back;
  assert.equal((await resumeRebootSequence(deps(TTL_50M)))?.outcome, 'rebooted');

  assert.equal(host.now().getTime() - takenAt > 35 * MINUTE, true);
  assert.equal(holder(), null, 'released at the end');
  assert.equal((await contender.acquire(OTHER)).acquired, true);
});

test('a slot another host took while this one drained: no reboot, ACTIVE again, outcome slot-lost', async () => {
  const { host, ecs, ssm, deps } = world();
  const tasks = drainingFor(host, 20 * MINUTE);
  ecs.running = () => {
    const taken = ssm.parameters.has(`${LOCK_PATH}/prod/0/1`);
    if (host.now().getTime() > Date.parse('2026-11-22T12:05:00Z') && !taken) takeOver(ssm);
    return tasks();
  };

  const outcome = await runRebootSequence(deps(TTL_50M), 'test');

  assert.equal(outcome.outcome, 'slot-lost', outcome.message);
  assert.match(outcome.message, /could not be renewed while draining/);
  assert.equal(ecs.status, 'ACTIVE');
  assert.equal(host.text(BOOT_ID), 'boot-1\n', 'no reboot');
  assert.equal(host.text(SEQUENCE_RECORD_FILE), undefined);
  assert.equal(ssm.valueOf(`${LOCK_PATH}/prod/0/1`)?.instanceId, OTHER, 'the other host keeps it');
});

/** From the drain's first poll on, the next count writes of the claim are throttled. */
function throttleRenewals(ssm: FakeSsm, count: number): void {
  ssm.faults.push({ operation: 'PutParameter', name: /\/0\/0$/, kind: 'throttle', count });
}

test('a renewal that fails (throttled) is tolerated while the lease lasts: the host drains and reboots', async () => {
  const { host, ecs, ssm, logger, deps } = world();
  const tasks = drainingFor(host, 20 * MINUTE);
  ecs.running = () => {
    if (ssm.faults.length === 0) throttleRenewals(ssm, 8);
    return tasks();
  };

  assert.equal((await runRebootSequence(deps(TTL_50M), 'test')).outcome, 'rebooting');
  const warned = logger.lines.some((line) => /^warn: renewing reboot slot \S+ failed; it is held for \d+ s/.test(line));
  assert.equal(warned, true, logger.lines.join('\n'));
});

test('the slot is renewed just before the reboot: one another host took by then is not rebooted on', async () => {
  const { host, ecs, ssm, deps } = world();
  const tasks = drainingFor(host, 10 * MINUTE);
  ecs.running = () => {
    const left = tasks();
    if (left === 0 && !ssm.parameters.has(`${LOCK_PATH}/prod/0/1`)) takeOver(ssm);
    return left;
  };

  const outcome = await runRebootSequence(deps(TTL_50M), 'test');

  assert.equal(outcome.outcome, 'slot-lost', outcome.message);
  assert.match(outcome.message, /could not be renewed before the reboot/);
  assert.equal(host.text(BOOT_ID), 'boot-1\n');
  assert.equal(ecs.status, 'ACTIVE');
});

test("the reboot is measured on the lock service's clock; one longer than REBOOT_TIMEOUT is reported", async () => {
  const { host, logger, deps } = world();
  const slowReboot = async () => {
    await host.sleep(12 * MINUTE);
    host.putFile(BOOT_ID, 'boot-2\n');
  };
  assert.equal((await runRebootSequence(deps(TTL_50M, slowReboot), 'test')).outcome, 'rebooting');
  assert.equal((await resumeRebootSequence(deps(TTL_50M)))?.outcome, 'rebooted');
  const warning =
    "warn: the reboot slot was renewed 720 s after its renewal before the reboot (lock service's clock): " +
    'longer than REBOOT_TIMEOUT=10m';
  assert.equal(
    logger.lines.some((line) => line.startsWith(warning)),
    true,
    logger.lines.join('\n'),
  );
});

test('a reboot that outlasts the slot: the instance comes back all the same; the lost slot is an error', async () => {
  const { host, ecs, ssm, logger, deps } = world();
  const contender = fleetLock(host, ssm);
  const longReboot = async () => {
    await host.sleep(51 * MINUTE);
    assert.equal((await contender.acquire(OTHER)).acquired, true, 'the slot ran out during the reboot');
    host.putFile(BOOT_ID, 'boot-2\n');
  };
  assert.equal((await runRebootSequence(deps(TTL_50M, longReboot), 'test')).outcome, 'rebooting');

  assert.equal((await resumeRebootSequence(deps(TTL_50M)))?.outcome, 'rebooted');
  assert.equal(ecs.status, 'ACTIVE');
  const error = 'error: the reboot slot was lost during the reboot: another host may have rebooted alongside';
  assert.equal(
    logger.lines.some((line) => line.startsWith(error)),
    true,
  );
  assert.equal(ssm.valueOf(`${LOCK_PATH}/prod/0/1`)?.instanceId, OTHER, "the other host's claim is left alone");
});

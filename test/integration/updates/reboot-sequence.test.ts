/**
 * The fleet lock, the drain and the reboot sequence against moto_server (ECS
 * and SSM): slots raced for by real SDK clients, DRAINING → simulated reboot →
 * ACTIVE, drain timeouts by policy, and a process killed at every step of the
 * sequence that, started again, leaves the instance ACTIVE and the slot free.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  DescribeContainerInstancesCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  StartTaskCommand,
  UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';

import type { AcquireResult } from '../../../src/aws/fleet-lock.ts';
import {
  resumeRebootSequence,
  runRebootSequence,
  SEQUENCE_STEPS,
  type SequenceStep,
} from '../../../src/concerns/updates/reboot/sequence.ts';
import { SEQUENCE_RECORD_FILE } from '../../../src/concerns/updates/reboot/record.ts';
import { runCli } from '../../support/cli.ts';
import { metadataReply, startIntrospectionServer } from '../../support/introspection-server.ts';
import {
  createCluster,
  type Moto,
  MOTO_REGION,
  motoEcsClient,
  registerContainerInstance,
  startMoto,
} from '../../support/moto.ts';
import { scratchDir } from '../../support/scratch.ts';
import { BOOT_ID, createBootedRoot, fleetLockFor, type SequenceSetup, sequenceDeps } from './moto-sequence.ts';

const DRIVER = fileURLToPath(new URL('./sequence-driver.ts', import.meta.url));
const HOUR = 3_600_000;

let moto: Moto;
let ecs: ECSClient;
let clusters = 0;

before(async () => {
  moto = await startMoto();
  ecs = motoEcsClient(moto);
});
after(() => moto?.stop());

function instanceId(): string {
  return `i-${randomBytes(8).toString('hex')}`;
}

/** A cluster of its own with one registered instance, an introspection server for it, and a booted scratch root. */
async function newHost(t: TestContext, overrides: Partial<SequenceSetup> = {}): Promise<SequenceSetup> {
  const cluster = `updates-${++clusters}`;
  await createCluster(ecs, cluster);
  const containerInstanceArn = await registerContainerInstance(moto, ecs, cluster);
  const introspection = await startIntrospectionServer(() => metadataReply(cluster, containerInstanceArn));
  t.after(() => introspection.close());
  return {
    root: createBootedRoot(scratchDir(t)),
    endpoint: moto.endpoint,
    introspectionUrl: introspection.url,
    cluster,
    containerInstanceArn,
    instanceId: instanceId(),
    slots: 1,
    drainTimeoutMs: 30_000,
    drainTimeoutPolicy: 'abort',
    lockTtlMs: HOUR,
    ...overrides,
  };
}

async function statusOf(setup: SequenceSetup): Promise<string | undefined> {
  const reply = await ecs.send(
    new DescribeContainerInstancesCommand({ cluster: setup.cluster, containerInstances: [setup.containerInstanceArn] }),
  );
  return reply.containerInstances?.[0]?.status;
}

/** Who holds a slot of the cluster (claims judged on the lock service's clock). */
async function holders(setup: SequenceSetup): Promise<(string | null)[]> {
  const status = await fleetLockFor(setup).status(instanceId());
  return status.claims.filter((claim) => claim.state === 'held').map((claim) => claim.holder);
}

function holderOf(result: AcquireResult): string | null {
  return result.acquired ? result.lease.claim.holder : null;
}

function recordOf(setup: SequenceSetup): { phase: string } | null {
  const file = join(setup.root, SEQUENCE_RECORD_FILE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { phase: string }) : null;
}

function bootId(setup: SequenceSetup): string {
  return readFileSync(join(setup.root, BOOT_ID), 'utf8');
}

/** A task started without a service, of a task definition family of the cluster's own: returns "family:revision". */
async function startStandaloneTask(setup: SequenceSetup): Promise<string> {
  const family = `nightly-batch-${setup.cluster}`;
  await ecs.send(
    new RegisterTaskDefinitionCommand({
      family,
      containerDefinitions: [{ name: 'job', image: 'busybox', memory: 64 }],
    }),
  );
  await ecs.send(
    new StartTaskCommand({
      cluster: setup.cluster,
      taskDefinition: family,
      containerInstances: [setup.containerInstanceArn],
      startedBy: 'cron',
    }),
  );
  return `${family}:1`;
}

describe('fleet lock in SSM Parameter Store', () => {
  test('two agents race for the only slot: exactly one wins, every round', async (t) => {
    const setup = await newHost(t);
    const [first, second] = [fleetLockFor(setup), fleetLockFor(setup)];
    for (let round = 0; round < 5; round++) {
      const [a, b] = [instanceId(), instanceId()];
      const results = await Promise.all([first.acquire(a), second.acquire(b)]);
      const winners = results.map(holderOf).filter((holder) => holder !== null);
      assert.equal(winners.length, 1, `round ${round}: ${JSON.stringify(results)}`);
      assert.deepEqual(await holders(setup), winners);
      assert.equal((await first.release(winners[0] as string)).length, 1);
    }
    assert.deepEqual(await holders(setup), []);
  });

  test(
    'MAX_CONCURRENT_REBOOTS=2 lets two hosts in and keeps the third out; asking again returns the ' +
      'slot already held',
    async (t) => {
      const setup = await newHost(t, { slots: 2 });
      const lock = fleetLockFor(setup);
      const [a, b, c] = [instanceId(), instanceId(), instanceId()];
      const results = await Promise.all([a, b, c].map((holder) => fleetLockFor(setup).acquire(holder)));
      const winners = results.map(holderOf).filter((holder) => holder !== null);
      assert.equal(winners.length, 2);
      const loser = results.find((result) => !result.acquired);
      const named = loser?.acquired === false && loser.holders.map((claim) => claim.holder).sort();
      assert.deepEqual(named, [...winners].sort(), 'the holders are named');
      const again = await lock.acquire(winners[0] as string);
      const first = results.find((result) => holderOf(result) === winners[0]);
      assert.equal(again.acquired && again.renewed, true, 're-entrant after a crash');
      const parameterOf = (result?: AcquireResult) => (result?.acquired ? result.lease.claim.parameter : null);
      assert.equal(parameterOf(again), parameterOf(first));
    },
  );
});

describe('reboot sequence', () => {
  test('DRAINING → simulated reboot → ACTIVE, slot held throughout and released at the end', async (t) => {
    const setup = await newHost(t);
    const bootBefore = bootId(setup);

    const started = await runRebootSequence(sequenceDeps(setup), 'test');

    assert.equal(started.outcome, 'rebooting', started.message);
    assert.notEqual(bootId(setup), bootBefore, 'the injected reboot ran');
    assert.equal(await statusOf(setup), 'DRAINING');
    assert.deepEqual(await holders(setup), [setup.instanceId]);
    assert.equal(recordOf(setup)?.phase, 'rebooting');

    const resumed = await resumeRebootSequence(sequenceDeps(setup));

    assert.equal(resumed?.outcome, 'rebooted', resumed?.message);
    assert.equal(await statusOf(setup), 'ACTIVE');
    assert.deepEqual(await holders(setup), []);
    assert.equal(recordOf(setup), null);
    assert.equal(await resumeRebootSequence(sequenceDeps(setup)), null, 'nothing left to resume');
  });

  test(
    'drain timeout with DRAIN_TIMEOUT_POLICY=abort: no reboot, ACTIVE again, slot released, the ' +
      'standalone task named',
    async (t) => {
      const setup = await newHost(t, { drainTimeoutMs: 300 });
      const task = await startStandaloneTask(setup);
      const bootBefore = bootId(setup);

      const outcome = await runRebootSequence(sequenceDeps(setup), 'test');

      assert.equal(outcome.outcome, 'drain-timeout');
      assert.ok(outcome.message.includes(`standalone tasks ECS will not move: ${task} (`), outcome.message);
      assert.match(outcome.message, /started by cron\)/);
      assert.deepEqual(
        outcome.remainingTasks?.map((remaining) => [remaining.name, remaining.standalone]),
        [[task, true]],
      );
      assert.equal(bootId(setup), bootBefore, 'no reboot');
      assert.equal(await statusOf(setup), 'ACTIVE');
      assert.deepEqual(await holders(setup), []);
      assert.equal(recordOf(setup), null);
    },
  );

  test('drain timeout with DRAIN_TIMEOUT_POLICY=reboot: reboots anyway', async (t) => {
    const setup = await newHost(t, { drainTimeoutMs: 300, drainTimeoutPolicy: 'reboot' });
    await startStandaloneTask(setup);

    const outcome = await runRebootSequence(sequenceDeps(setup), 'test');

    assert.equal(outcome.outcome, 'rebooting');
    assert.equal(await statusOf(setup), 'DRAINING');
    assert.equal(recordOf(setup)?.phase, 'rebooting');
  });

  test('an instance the operator had drained stays DRAINING after the reboot', async (t) => {
    const setup = await newHost(t);
    await ecs.send(
      new UpdateContainerInstancesStateCommand({
        cluster: setup.cluster,
        containerInstances: [setup.containerInstanceArn],
        status: 'DRAINING',
      }),
    );

    assert.equal((await runRebootSequence(sequenceDeps(setup), 'test')).outcome, 'rebooting');
    assert.equal((await resumeRebootSequence(sequenceDeps(setup)))?.outcome, 'rebooted');

    assert.equal(await statusOf(setup), 'DRAINING');
    assert.deepEqual(await holders(setup), []);
  });

  test('the slot is busy while another host reboots: nothing is drained', async (t) => {
    const setup = await newHost(t);
    await fleetLockFor(setup).acquire(instanceId());

    const outcome = await runRebootSequence(sequenceDeps(setup), 'test');

    assert.equal(outcome.outcome, 'slot-busy');
    assert.equal(await statusOf(setup), 'ACTIVE');
    assert.equal(recordOf(setup), null);
  });
});

describe('drain and activate by hand', () => {
  test(
    'drain waits for the tasks and names a standalone one on timeout (exit 1); activate makes the ' +
      'instance ACTIVE again',
    async (t) => {
      const setup = await newHost(t);
      const env = {
        AWS_ACCESS_KEY_ID: 'testing',
        AWS_SECRET_ACCESS_KEY: 'testing',
        AWS_REGION: MOTO_REGION,
        AWS_ENDPOINT_URL_ECS: moto.endpoint,
        INTROSPECTION_URL: setup.introspectionUrl,
      };

      const dryRun = await runCli(['drain', '--dry-run'], env);
      assert.equal(dryRun.status, 0, dryRun.stderr);
      assert.match(dryRun.stdout, /would set DRAINING, then wait up to 30m/);
      assert.equal(await statusOf(setup), 'ACTIVE');

      const drained = await runCli(['drain', '--json'], env);
      assert.equal(drained.status, 0, drained.stderr);
      assert.deepEqual(JSON.parse(drained.stdout), {
        cluster: setup.cluster,
        containerInstanceArn: setup.containerInstanceArn,
        status: 'DRAINING',
        drained: true,
      });
      assert.equal(await statusOf(setup), 'DRAINING');

      const activated = await runCli(['activate'], env);
      assert.equal(activated.status, 0, activated.stderr);
      assert.equal(await statusOf(setup), 'ACTIVE');

      const task = await startStandaloneTask(setup);
      const timedOut = await runCli(['drain', '--timeout', '1s'], env);
      assert.equal(timedOut.status, 1, timedOut.stderr);
      assert.ok(
        timedOut.stdout.includes(
          `1 task(s) still on the instance after 1s; standalone tasks ECS will not move: ${task} (`,
        ),
        timedOut.stdout,
      );
      assert.equal(await statusOf(setup), 'DRAINING', 'left for the operator to decide');
    },
  );
});

interface DriverRun {
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDriver(setup: SequenceSetup, mode: 'run' | 'resume', crashAt?: SequenceStep): Promise<DriverRun> {
  const env = {
    ...process.env,
    SEQUENCE_SETUP: JSON.stringify(setup),
    ...(crashAt ? { SEQUENCE_CRASH_AT: crashAt } : {}),
  };
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [DRIVER, mode],
      { env, encoding: 'utf8', timeout: 60_000 },
      (_error, stdout, stderr) => {
        resolve({ signal: child.signalCode, code: child.exitCode, stdout, stderr });
      },
    );
  });
}

describe('a crash at any step is resumed or rolled back on the next start', () => {
  const runSteps = SEQUENCE_STEPS.filter((step) => step !== 'activated');

  for (const step of runSteps) {
    test(`killed after "${step}"`, async (t) => {
      const setup = await newHost(t);

      const killed = await runDriver(setup, 'run', step);
      assert.equal(killed.signal, 'SIGKILL', `the driver was to die at ${step}: ${killed.stderr}${killed.stdout}`);
      const index = SEQUENCE_STEPS.indexOf(step);
      if (index >= SEQUENCE_STEPS.indexOf('slot-acquired'))
        assert.deepEqual(await holders(setup), [setup.instanceId], 'the crash left the slot held');
      if (index >= SEQUENCE_STEPS.indexOf('draining'))
        assert.equal(await statusOf(setup), 'DRAINING', 'the crash left the instance DRAINING');
      const restarted = await runDriver(setup, 'resume');

      assert.equal(restarted.code, 0, restarted.stderr);
      const expected = step === 'reboot-issued' ? 'rebooted' : 'rolled-back';
      assert.equal(JSON.parse(restarted.stdout).outcome, expected, restarted.stdout);
      assert.equal(await statusOf(setup), 'ACTIVE');
      assert.deepEqual(await holders(setup), []);
      assert.equal(recordOf(setup), null);
    });
  }

  test('killed after re-activating, before releasing the slot', async (t) => {
    const setup = await newHost(t);
    const run = await runDriver(setup, 'run');
    assert.equal(JSON.parse(run.stdout).outcome, 'rebooting', run.stderr);

    const killed = await runDriver(setup, 'resume', 'activated');
    assert.equal(killed.signal, 'SIGKILL', killed.stderr);
    assert.deepEqual(await holders(setup), [setup.instanceId], 'still held when the process died');
    const restarted = await runDriver(setup, 'resume');

    assert.equal(JSON.parse(restarted.stdout).outcome, 'rebooted', restarted.stderr);
    assert.equal(await statusOf(setup), 'ACTIVE');
    assert.deepEqual(await holders(setup), []);
    assert.equal(recordOf(setup), null);
  });
});

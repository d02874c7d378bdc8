/**
 * The fleet lock's decisions against an in-memory Parameter Store whose clock
 * is the only one that judges expiry: hosts never pass theirs in. Time is
 * moved on the service's clock; the hosts' monotonic clocks move with it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  type AcquireResult,
  createFleetLock,
  type FleetLock,
  FleetLockError,
  type Lease,
} from '../../../src/aws/fleet-lock.ts';
import { backoffMs, RETRY } from '../../../src/aws/lock-store.ts';
import { FakeSsm, FakeTiming } from './fake-ssm.ts';

const PATH = '/ecs-host-agent/reboot-lock';
const PREFIX = `${PATH}/prod`;
const TTL = 60_000;
const [A, B, C] = ['i-0aaaaaaaaaaaaaaaa', 'i-0bbbbbbbbbbbbbbbb', 'i-0cccccccccccccccc'];

function lockOn(ssm: FakeSsm, slots = 1, timing = new FakeTiming(ssm)): FleetLock {
  return createFleetLock(ssm.client, { path: PATH, cluster: 'prod', slots, ttlMs: TTL }, timing);
}

function leaseOf(result: AcquireResult): Lease {
  if (!result.acquired) assert.fail(`not acquired: ${JSON.stringify(result)}`);
  return result.lease;
}

function holdersOf(result: AcquireResult): (string | null)[] {
  if (result.acquired) assert.fail(`acquired: ${JSON.stringify(result)}`);
  return result.holders.map((claim) => claim.holder);
}

function claimParameters(ssm: FakeSsm): string[] {
  return ssm.names().filter((name) => !name.endsWith('/clock'));
}

test("a slot is free again only when its claim is a TTL old on the lock service's clock", async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  const first = leaseOf(await lock.acquire(A));
  assert.equal(first.claim.parameter, `${PREFIX}/0/0`);
  const takenMs = ssm.parameters.get(`${PREFIX}/0/0`)?.modifiedMs as number;

  ssm.serverNowMs = takenMs + TTL - 100;
  assert.deepEqual(holdersOf(await lock.acquire(B)), [A]);

  ssm.serverNowMs = takenMs + TTL;
  const second = leaseOf(await lock.acquire(B));
  assert.equal(second.claim.parameter, `${PREFIX}/0/1`, "the next generation: the dead holder's name is not reused");
  assert.deepEqual(claimParameters(ssm), [`${PREFIX}/0/1`], 'the superseded claim is removed');
  assert.equal(await lock.renew(A), null, 'the old holder does not get it back');
});

test('a holder that renews keeps its slot past the TTL', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  leaseOf(await lock.acquire(A));
  for (let round = 0; round < 4; round++) {
    ssm.serverNowMs += TTL / 2;
    const lease = await lock.renew(A);
    assert.equal(lease?.claim.holder, A, `round ${round}`);
    assert.deepEqual(holdersOf(await lock.acquire(B)), [A], `round ${round}: 2 TTLs in, still held`);
  }
  ssm.serverNowMs += TTL;
  assert.equal(leaseOf(await lock.acquire(B)).claim.holder, B, 'a TTL after the last renewal');
});

test('a renewal landing a TTL or more after the one before is not believed; the claim is given back', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  leaseOf(await lock.acquire(A));
  ssm.serverNowMs += TTL;

  assert.equal(await lock.renew(A), null);
  assert.deepEqual(
    ssm.valueOf(`${PREFIX}/0/0`),
    { releasedBy: A },
    'released, so its fresh timestamp holds nobody out',
  );
  assert.equal(leaseOf(await lock.acquire(B)).claim.parameter, `${PREFIX}/0/1`);
});

test('a holder whose slot was taken and its claim deleted does not make the claim again', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  leaseOf(await lock.acquire(A));
  ssm.serverNowMs += TTL;
  leaseOf(await lock.acquire(B));

  assert.equal(await lock.renew(A), null);
  assert.deepEqual(claimParameters(ssm), [`${PREFIX}/0/1`]);
  assert.equal((await lock.status(C)).claims[0]?.holder, B);
});

test('acquire again (after a crash) returns the slot already held, renewed, with the time it was taken', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm, 2);
  const first = leaseOf(await lock.acquire(A));
  ssm.serverNowMs += 30_000;

  const again = await lock.acquire(A, 120_000);
  const lease = leaseOf(again);
  assert.equal(again.acquired && again.renewed, true);
  assert.equal(lease.claim.parameter, first.claim.parameter);
  assert.equal(lease.claim.takenAt, first.claim.renewedAt);
  assert.equal(Date.parse(lease.claim.renewedAt) - Date.parse(first.claim.renewedAt) >= 30_000, true);
  assert.equal(lease.claim.ttlSeconds, 120);
  assert.deepEqual(claimParameters(ssm), [`${PREFIX}/0/0`], 'one claim, not two');
});

test('a create whose reply was lost: the retry finds the claim by its value and holds it', async () => {
  const ssm = new FakeSsm();
  ssm.faults.push({ operation: 'PutParameter', name: /\/0\/0$/, kind: 'lose-reply', count: 1 });
  const timing = new FakeTiming(ssm);
  const lease = leaseOf(await lockOn(ssm, 1, timing).acquire(A));

  assert.equal(lease.claim.holder, A);
  assert.deepEqual(
    ssm.calls.filter((call) => call.name === `${PREFIX}/0/0`).map((call) => call.operation),
    ['PutParameter', 'PutParameter'],
  );
  assert.equal(timing.sleeps.length, 1, 'backed off once');
  assert.deepEqual(claimParameters(ssm), [`${PREFIX}/0/0`]);
  assert.deepEqual(holdersOf(await lockOn(ssm).acquire(B)), [A]);
});

test("a name another host created first is not mistaken for this host's claim", async () => {
  const ssm = new FakeSsm();
  const other = JSON.stringify({ instanceId: B, ttlSeconds: 60 });
  ssm.faults.push({
    operation: 'PutParameter',
    name: /\/0\/0$/,
    kind: { before: (service) => service.put(`${PREFIX}/0/0`, other) },
    count: 1,
  });

  assert.deepEqual(holdersOf(await lockOn(ssm).acquire(A)), [B]);
  assert.deepEqual(ssm.valueOf(`${PREFIX}/0/0`), { instanceId: B, ttlSeconds: 60 });
});

test('throttling backs off with jitter, then the call goes through', async () => {
  const ssm = new FakeSsm();
  ssm.faults.push({ operation: 'GetParametersByPath', kind: 'throttle', count: 3 });
  const timing = new FakeTiming(ssm, () => 0.75);

  assert.equal(leaseOf(await lockOn(ssm, 1, timing).acquire(A)).claim.holder, A);
  assert.deepEqual(timing.sleeps, [187, 375, 750], 'three quarters of 250, 500 and 1000 ms');
});

test('backoff is random below a bound that doubles up to its cap', () => {
  assert.deepEqual(
    [1, 2, 3, 6, 7, 8].map((attempt) => backoffMs(attempt, () => 0.999999)),
    [249, 499, 999, 7999, 7999, 7999],
  );
  assert.deepEqual(
    [1, 5].map((attempt) => backoffMs(attempt, () => 0)),
    [0, 0],
  );
});

test('SSM errors never read as a free slot (or a busy one): the operation fails, nothing is claimed', async () => {
  for (const kind of ['throttle', 'server-error', 'lose-reply'] as const) {
    const ssm = new FakeSsm();
    ssm.faults.push({ operation: 'GetParametersByPath', kind, count: RETRY.attempts });
    const timing = new FakeTiming(ssm);
    await assert.rejects(
      lockOn(ssm, 1, timing).acquire(A),
      (error: unknown) => error instanceof FleetLockError && /failed after 8 attempts/.test(error.message),
      kind,
    );
    assert.equal(timing.sleeps.length, RETRY.attempts - 1, kind);
    assert.deepEqual(claimParameters(ssm), [], kind);
  }
});

test('access denied is not retried; the error names the permission', async () => {
  const ssm = new FakeSsm();
  ssm.faults.push({ operation: 'PutParameter', kind: 'access-denied', count: 1 });
  await assert.rejects(
    lockOn(ssm).acquire(A),
    /ssm:PutParameter on \/ecs-host-agent\/reboot-lock\/prod\/clock failed: .*the instance role needs ssm:PutParameter/,
  );
  assert.equal(ssm.calls.length, 1);
});

test('release gives the slot back; its name is never used again', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  leaseOf(await lock.acquire(A));

  assert.deepEqual(await lock.release(A), [`${PREFIX}/0/0`]);
  assert.equal((await lock.status(A)).claims[0]?.state, 'released');
  assert.deepEqual(await lock.release(A), [], 'nothing left to release');
  assert.equal(leaseOf(await lock.acquire(B)).claim.parameter, `${PREFIX}/0/1`);
  assert.deepEqual(claimParameters(ssm), [`${PREFIX}/0/1`]);
});

test('two slots: two hosts in, the third told both holders; a claim above the limit still counts', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm, 2);
  assert.equal(leaseOf(await lock.acquire(A)).claim.slot, 0);
  assert.equal(leaseOf(await lock.acquire(B)).claim.slot, 1);
  assert.deepEqual(holdersOf(await lock.acquire(C)), [A, B]);

  // MAX_CONCURRENT_REBOOTS was 3 when C took slot 2; now it is 2.
  await lock.release(A);
  ssm.put(`${PREFIX}/2/0`, JSON.stringify({ instanceId: C, ttlSeconds: 60 }));
  assert.deepEqual(holdersOf(await lock.acquire('i-0dddddddddddddddd')), [B, C]);
});

test("a claim whose value cannot be read holds its slot for the reader's TTL", async () => {
  const ssm = new FakeSsm();
  ssm.put(`${PREFIX}/0/4`, 'not json');
  const lock = lockOn(ssm);
  assert.deepEqual(holdersOf(await lock.acquire(A)), [null]);
  ssm.serverNowMs += TTL;
  assert.equal(leaseOf(await lock.acquire(A)).claim.parameter, `${PREFIX}/0/5`);
});

test("an older agent's expiresAt, a time of its own clock, is ignored: its claim lasts the reader's TTL", async () => {
  const ssm = new FakeSsm();
  ssm.put(`${PREFIX}/0/0`, JSON.stringify({ instanceId: B, expiresAt: '2020-01-01T00:00:00Z' }));
  const lock = lockOn(ssm);
  assert.deepEqual(holdersOf(await lock.acquire(A)), [B]);
  ssm.serverNowMs += TTL;
  assert.equal(leaseOf(await lock.acquire(A)).claim.holder, A);
});

test("status: every claim with holder, taken, renewed and expiry times on the lock service's clock", async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm, 2);
  leaseOf(await lock.acquire(A));
  const takenAt = new Date(ssm.parameters.get(`${PREFIX}/0/0`)?.modifiedMs as number).toISOString();
  ssm.serverNowMs += 10_000;
  await lock.renew(A);
  const renewedMs = ssm.parameters.get(`${PREFIX}/0/0`)?.modifiedMs as number;
  ssm.put(`${PREFIX}/1/3`, JSON.stringify({ instanceId: B, ttlSeconds: 60 }));
  const expiredMs = ssm.serverNowMs;
  ssm.serverNowMs += TTL;
  ssm.put(`${PREFIX}/1/2`, JSON.stringify({ instanceId: C, ttlSeconds: 60 }));

  const status = await lock.status(A);

  assert.equal(Date.parse(status.serverTime) >= ssm.serverNowMs - 5, true);
  assert.equal(status.held, 0, "A's claim is a TTL old too");
  assert.deepEqual(status.claims, [
    {
      slot: 0,
      generation: 0,
      parameter: `${PREFIX}/0/0`,
      state: 'expired',
      holder: A,
      takenAt,
      renewedAt: new Date(renewedMs).toISOString(),
      expiresAt: new Date(renewedMs + TTL).toISOString(),
      ttlSeconds: 60,
    },
    {
      slot: 1,
      generation: 3,
      parameter: `${PREFIX}/1/3`,
      state: 'expired',
      holder: B,
      takenAt: new Date(expiredMs).toISOString(),
      renewedAt: new Date(expiredMs).toISOString(),
      expiresAt: new Date(expiredMs + TTL).toISOString(),
      ttlSeconds: 60,
    },
    {
      slot: 1,
      generation: 2,
      parameter: `${PREFIX}/1/2`,
      state: 'superseded',
      holder: C,
      takenAt: new Date(expiredMs + TTL).toISOString(),
      renewedAt: new Date(expiredMs + TTL).toISOString(),
      expiresAt: new Date(expiredMs + 2 * TTL).toISOString(),
      ttlSeconds: 60,
    },
  ]);
});

test('the lease counts on the monotonic clock from when the claim was sent, with a percent in reserve', async () => {
  const ssm = new FakeSsm();
  const lock = lockOn(ssm);
  const lease = leaseOf(await lock.acquire(A));
  const left = lock.remainingMs(lease);
  assert.equal(left <= TTL * 0.99 && left > TTL * 0.99 - 50, true, String(left));
  ssm.serverNowMs += 30_000;
  assert.equal(Math.round(lock.remainingMs(lease)), Math.round(left - 30_000));
});

test('a holder id that is not an instance id is refused before anything is written', async () => {
  const ssm = new FakeSsm();
  await assert.rejects(lockOn(ssm).acquire('i-1 && reboot'), /holder "i-1 && reboot" is not an instance id/);
  assert.deepEqual(ssm.calls, []);
});

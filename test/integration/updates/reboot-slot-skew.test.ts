/**
 * Six hosts whose clocks are skewed up to ±150 s (faketime on each CLI
 * process) contend for MAX_CONCURRENT_REBOOTS=2 slots with a TTL of 1m,
 * against moto_server, while a seventh host holds a slot and dies and one of
 * the six holds its slot for longer than the TTL by renewing it.
 *
 * The observer: moto runs on this machine's clock, unskewed, and so does this
 * test, so every time below is on one clock, the lock service's. A host holds
 * a slot from the moment its claim was stored (takenAt, stamped by SSM, before
 * the host can know it won) until it starts `release`; the dead host until
 * its claim expires on the service's clock. Those intervals are at least as
 * long as any host's belief that it holds a slot: if at no instant more than
 * two of them overlap, no two hosts too many ever rebooted together.
 */
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';

import { startMoto } from '../../support/moto.ts';
import {
  jsonOf,
  requireFaketime,
  runSlotCli,
  type SlotHost,
  type SlotRun,
  startHost,
  stopStragglers,
} from './slot-hosts.ts';

const SLOTS = 2;
const TTL_MS = 60_000;
const SKEWS = [-150, -90, -30, 30, 90, 150];
const DEAD_SKEW = 120;
const HOLD_MS = 3000;
/** The renewing host keeps its slot this long, acquiring again every RENEW_EVERY_MS. */
const RENEWER_HOLD_MS = 100_000;
const RENEW_EVERY_MS = 20_000;
const TEST_BOUND_MS = 300_000;
const MAX_ATTEMPTS = 80;

interface Claim {
  slot: number;
  generation: number;
  parameter: string;
  holder: string;
  takenAt: string;
  renewedAt: string;
  expiresAt: string;
}

interface Acquired {
  acquired: true;
  renewed: boolean;
  slot: Claim;
  expiresInSeconds: number;
}

interface Refused {
  acquired: false;
  holders: Claim[];
}

interface Hold {
  readonly host: string;
  readonly claim: Claim;
  /** On the service's clock, in ms. */
  readonly from: number;
  readonly until: number;
}

const ttl = ['--ttl', '1m', '--json'];

test(
  "skewed clocks, a dead and a renewing holder: never more than 2 hold; a dead slot is free a TTL on (service's clock)",
  { timeout: TEST_BOUND_MS + 60_000 },
  async (t) => {
    requireFaketime();
    const moto = await startMoto();
    t.after(() => moto.stop());
    t.after(stopStragglers);
    const fleet = { ssmEndpoint: moto.endpoint, cluster: 'skewed', slots: SLOTS };
    const dead = await startHost(t, fleet, DEAD_SKEW);
    const contenders: SlotHost[] = [];
    for (const skew of SKEWS) contenders.push(await startHost(t, fleet, skew));
    const [renewer, ...others] = contenders as [SlotHost, ...SlotHost[]];
    const bound = Date.now() + TEST_BOUND_MS;
    const refusals: Refused[] = [];

    /** One acquire: the claim, or null when all slots are taken (a refusal is kept, to check who it names). */
    const acquire = async (host: SlotHost): Promise<Acquired | null> => {
      const run = await runSlotCli(host, ['acquire', ...ttl]);
      assert.equal(
        run.status === 0 || run.status === 1,
        true,
        `${host.instanceId} acquire: exit ${run.status}\n${run.stdout}\n${run.stderr}`,
      );
      const answer = jsonOf<Acquired | Refused>(run);
      if (answer.acquired) return answer;
      refusals.push(answer);
      return null;
    };
    const release = async (host: SlotHost): Promise<SlotRun> => {
      const run = await runSlotCli(host, ['release', '--json']);
      assert.equal(run.status, 0, run.stderr);
      return run;
    };

    // The host that dies: it takes a slot and is never heard of again.
    const deadClaim = (await acquire(dead))?.slot;
    assert.ok(deadClaim, 'the first host gets a slot');
    const deadHold: Hold = {
      host: dead.instanceId,
      claim: deadClaim,
      from: Date.parse(deadClaim.takenAt),
      until: Date.parse(deadClaim.expiresAt),
    };

    // The renewing host takes the other slot and keeps it for longer than the TTL.
    const renewing = async (): Promise<{ hold: Hold; renewals: Acquired[] }> => {
      const first = await acquire(renewer);
      assert.ok(first, 'the renewing host gets the second slot');
      const renewals: Acquired[] = [];
      while (Date.now() - Date.parse(first.slot.takenAt) < RENEWER_HOLD_MS) {
        await delay(RENEW_EVERY_MS);
        const again = await acquire(renewer);
        assert.ok(again, `the renewing host lost its slot: ${JSON.stringify(refusals.at(-1))}`);
        renewals.push(again);
      }
      const released = await release(renewer);
      return {
        hold: {
          host: renewer.instanceId,
          claim: first.slot,
          from: Date.parse(first.slot.takenAt),
          until: released.startedAt,
        },
        renewals,
      };
    };

    // The others poll, hold their slot a few seconds, give it back.
    const contending = async (host: SlotHost): Promise<Hold> => {
      for (let attempt = 0; attempt < MAX_ATTEMPTS && Date.now() < bound; attempt++) {
        const taken = await acquire(host);
        if (taken) {
          assert.equal(taken.renewed, false);
          await delay(HOLD_MS);
          const released = await release(host);
          return {
            host: host.instanceId,
            claim: taken.slot,
            from: Date.parse(taken.slot.takenAt),
            until: released.startedAt,
          };
        }
        await delay(4000 + Math.random() * 3000);
      }
      throw new Error(`${host.instanceId} (clock ${host.skewSeconds} s off) never got a slot`);
    };

    const renewerStarted = renewing();
    await delay(1000);
    const [{ hold: renewerHold, renewals }, ...otherHolds] = await Promise.all([
      renewerStarted,
      ...others.map(contending),
    ]);
    const holds = [deadHold, renewerHold, ...otherHolds];
    const timeline = holds
      .map(
        (hold) =>
          `${hold.host} slot ${hold.claim.slot}/${hold.claim.generation} ` +
          `${new Date(hold.from).toISOString()} .. ${new Date(hold.until).toISOString()}`,
      )
      .join('\n');

    assert.equal(maxOverlap(holds), SLOTS, `at most ${SLOTS} at any instant, and the slots were used:\n${timeline}`);

    const reclaim = otherHolds.filter((hold) => hold.claim.slot === deadClaim.slot).sort((a, b) => a.from - b.from)[0];
    assert.ok(reclaim, `the dead host's slot was taken back:\n${timeline}`);
    assert.equal(reclaim.claim.generation, deadClaim.generation + 1, 'by the next generation');
    assert.equal(
      reclaim.from - Date.parse(deadClaim.takenAt) >= TTL_MS,
      true,
      `only a TTL after the dead host took it (on the service's clock):\n${timeline}`,
    );

    assert.equal(renewals.length >= 4, true);
    for (const renewal of renewals) {
      assert.deepEqual(
        [renewal.renewed, renewal.slot.parameter, renewal.slot.takenAt],
        [true, renewerHold.claim.parameter, renewerHold.claim.takenAt],
      );
    }
    const lastRenewal = renewals.at(-1) as Acquired;
    assert.equal(
      Date.parse(lastRenewal.slot.renewedAt) - renewerHold.from > TTL_MS,
      true,
      'the renewing host kept its slot past the TTL',
    );
    const intruder = otherHolds.find(
      (hold) => hold.claim.slot === renewerHold.claim.slot && hold.from < renewerHold.until,
    );
    assert.equal(intruder, undefined, `nobody took the renewing host's slot while it held it:\n${timeline}`);

    const named = refusals
      .filter((refusal) => refusal.holders.length === SLOTS)
      .map((refusal) =>
        refusal.holders
          .map((claim) => claim.holder)
          .sort()
          .join(' '),
      );
    assert.equal(
      named.includes([dead.instanceId, renewer.instanceId].sort().join(' ')),
      true,
      'a refusal names the holders',
    );
  },
);

/** Most intervals [from, until) that overlap at one instant. */
function maxOverlap(holds: readonly Hold[]): number {
  const events = holds.flatMap((hold) => [
    { at: hold.from, delta: 1 },
    { at: hold.until, delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let most = 0;
  for (const event of events) {
    current += event.delta;
    most = Math.max(most, current);
  }
  return most;
}

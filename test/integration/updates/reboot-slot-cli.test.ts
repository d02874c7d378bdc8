/**
 * `ecs-host-agent reboot-slot` as operators run it: the real CLI in its own
 * process against moto_server's SSM, the holder read from a loopback IMDSv2,
 * and a proxy in front of SSM that loses replies, throttles, or holds a reply
 * while the CLI is killed. Times in the output are the lock service's: moto
 * runs on this machine's clock, which the skewed hosts do not share.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test, type TestContext } from 'node:test';

import { type Moto, startMoto } from '../../support/moto.ts';
import { jsonOf, runSlotCli, type SlotHost, type SlotRun, startHost, stopStragglers } from './slot-hosts.ts';
import { startSsmProxy, type SsmProxy } from './ssm-proxy.ts';

let moto: Moto;
let clusters = 0;

before(async () => {
  moto = await startMoto();
});
afterEach(stopStragglers);
after(() => moto?.stop());

interface Claim {
  slot: number;
  generation: number;
  parameter: string;
  state: string;
  holder: string | null;
  takenAt: string | null;
  renewedAt: string;
  expiresAt: string | null;
  ttlSeconds: number | null;
}

interface Fleet {
  readonly hosts: SlotHost[];
  readonly proxy: SsmProxy;
  readonly cluster: string;
}

/** Hosts of a new cluster, their SSM behind a proxy (with no fault unless a test adds one). */
async function fleet(
  t: TestContext,
  count: number,
  slots: number,
  env: Record<string, string> = {},
  skews: number[] = [],
): Promise<Fleet> {
  const cluster = `slots-${++clusters}`;
  const proxy = await startSsmProxy(t, moto.endpoint);
  const hosts = [];
  for (let i = 0; i < count; i++) {
    hosts.push(await startHost(t, { ssmEndpoint: proxy.url, cluster, slots, env }, skews[i] ?? 0));
  }
  return { hosts, proxy, cluster };
}

function ok(run: SlotRun, status = 0): SlotRun {
  assert.equal(run.status, status, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
  return run;
}

/** A time the service stamped during the run, read on this machine's (moto's) clock. */
function assertDuring(time: string | null, run: SlotRun): void {
  const ms = Date.parse(time ?? '');
  assert.equal(
    ms >= run.startedAt && ms <= run.endedAt,
    true,
    `${time} is not between ${new Date(run.startedAt).toISOString()} and ${new Date(run.endedAt).toISOString()}`,
  );
}

test("acquire, status, release and their JSON; times are the lock service's, also on a host 150 s ahead", async (t) => {
  const { hosts, cluster } = await fleet(t, 3, 2, {}, [150, -150, 0]);
  const [a, b, c] = hosts as [SlotHost, SlotHost, SlotHost];

  const first = ok(await runSlotCli(a, ['acquire', '--json']));
  const taken = jsonOf<{ slot: Claim; expiresInSeconds: number }>(first);
  assert.deepEqual(
    { ...taken, slot: { ...taken.slot, takenAt: null, renewedAt: null, expiresAt: null }, expiresInSeconds: null },
    {
      acquired: true,
      cluster,
      slots: 2,
      instanceId: a.instanceId,
      renewed: false,
      slot: {
        slot: 0,
        generation: 0,
        parameter: `/ecs-host-agent-tests/reboot-slots/${cluster}/0/0`,
        state: 'held',
        holder: a.instanceId,
        takenAt: null,
        renewedAt: null,
        expiresAt: null,
        ttlSeconds: 7200,
      },
      expiresInSeconds: null,
    },
  );
  assertDuring(taken.slot.takenAt, first);
  assert.equal(taken.slot.renewedAt, taken.slot.takenAt);
  assert.equal(Date.parse(taken.slot.expiresAt ?? '') - Date.parse(taken.slot.renewedAt), 7_200_000);
  assert.equal(
    taken.expiresInSeconds <= 7128 && taken.expiresInSeconds > 7100,
    true,
    `a percent in reserve: ${taken.expiresInSeconds}`,
  );

  const second = jsonOf<{ slot: Claim }>(ok(await runSlotCli(b, ['acquire', '--ttl', '90m', '--json'])));
  assert.deepEqual([second.slot.slot, second.slot.ttlSeconds, second.slot.holder], [1, 5400, b.instanceId]);

  const busy = ok(await runSlotCli(c, ['acquire', '--json']), 1);
  const refused = jsonOf<{ acquired: boolean; holders: Claim[] }>(busy);
  assert.equal(refused.acquired, false);
  assert.deepEqual(
    refused.holders.map((claim) => [claim.slot, claim.holder, claim.state]),
    [
      [0, a.instanceId, 'held'],
      [1, b.instanceId, 'held'],
    ],
  );
  assert.match(
    ok(await runSlotCli(c, ['acquire']), 1).stdout,
    /^all 2 reboot slot\(s\) of cluster "slots-\d+" are taken: slot 0 by i-\w+ until \S+, slot 1 by i-\w+ until \S+ /,
  );

  const statusRun = ok(await runSlotCli(c, ['status', '--json']));
  const status = jsonOf<{ serverTime: string; held: number; claims: Claim[]; instanceId: string }>(statusRun);
  assertDuring(status.serverTime, statusRun);
  assert.equal(status.held, 2);
  assert.equal(status.instanceId, c.instanceId);
  assert.deepEqual(
    status.claims.map((claim) => claim.takenAt),
    [taken.slot.takenAt, second.slot.takenAt],
  );

  const again = ok(await runSlotCli(a, ['acquire', '--json']));
  const renewed = jsonOf<{ renewed: boolean; slot: Claim }>(again);
  assert.equal(renewed.renewed, true, 'asked again (after a crash, or to renew): the slot it holds');
  assert.deepEqual([renewed.slot.parameter, renewed.slot.takenAt], [taken.slot.parameter, taken.slot.takenAt]);
  assertDuring(renewed.slot.renewedAt, again);

  assert.deepEqual(jsonOf(ok(await runSlotCli(a, ['release', '--json']))), {
    cluster,
    slots: 2,
    instanceId: a.instanceId,
    released: [taken.slot.parameter],
  });
  assert.equal(
    ok(await runSlotCli(a, ['release'])).stdout,
    `${a.instanceId} held no reboot slot of cluster "${cluster}"\n`,
  );
  const text = ok(await runSlotCli(c, ['status'])).stdout.split('\n');
  assert.match(text[0] ?? '', /^reboot slots of cluster "slots-\d+": 1 of 2 held \(lock service's time \S+\)$/);
  assert.match(text[1] ?? '', /^ {2}slot 0 generation 0: released \S+$/);
  assert.match(text[2] ?? '', new RegExp(`^  slot 1 generation 0: held, ${b.instanceId}$`));

  const next = jsonOf<{ slot: Claim }>(ok(await runSlotCli(c, ['acquire', '--json'])));
  assert.equal(
    next.slot.parameter,
    `/ecs-host-agent-tests/reboot-slots/${cluster}/0/1`,
    "a released slot's name is not used again",
  );
  assert.match(
    ok(await runSlotCli(c, ['status'])).stdout,
    new RegExp(
      `slot 0 generation 1: held, ${c.instanceId} \\(this host\\)\n {4}taken \\S+, renewed \\S+, expires \\S+\n`,
    ),
  );
});

test('a PutParameter whose reply is lost: the retry recognises the claim by its value and holds it', async (t) => {
  const { hosts, proxy } = await fleet(t, 2, 1);
  const [a, b] = hosts as [SlotHost, SlotHost];
  proxy.faults.push({ operation: 'PutParameter', name: /\/0\/0$/, kind: 'drop-reply', count: 1 });

  const run = ok(await runSlotCli(a, ['acquire', '--json']));

  assert.equal(jsonOf<{ slot: Claim }>(run).slot.holder, a.instanceId);
  assert.deepEqual(
    proxy.calls.filter((call) => call.name.endsWith('/0/0')).map((call) => [call.operation, call.outcome]),
    [
      ['PutParameter', 'drop-reply'],
      ['PutParameter', 400],
    ],
  );
  assert.match(run.stderr, /the reply to its creation was lost; the claim found there is i-\w+'s own/);
  assert.deepEqual(
    jsonOf<{ holders: Claim[] }>(ok(await runSlotCli(b, ['acquire', '--json']), 1)).holders.map(
      (claim) => claim.holder,
    ),
    [a.instanceId],
  );
});

test('killed after its claim reached SSM, before it could answer: acquire again holds the same slot', async (t) => {
  const { hosts, proxy } = await fleet(t, 2, 1);
  const [a, b] = hosts as [SlotHost, SlotHost];
  let kill = () => {};
  proxy.faults.push({
    operation: 'PutParameter',
    name: /\/0\/0$/,
    kind: 'drop-reply',
    count: 1,
    whenApplied: () => kill(),
  });

  const killed = await runSlotCli(a, ['acquire', '--json'], (child) => {
    kill = () => child.kill('SIGKILL');
  });
  assert.equal(killed.status, null, 'killed by the signal');
  assert.equal(killed.stdout, '');

  const again = jsonOf<{ renewed: boolean; slot: Claim }>(ok(await runSlotCli(a, ['acquire', '--json'])));
  assert.deepEqual([again.renewed, again.slot.generation, again.slot.holder], [true, 0, a.instanceId]);
  assert.equal(ok(await runSlotCli(b, ['acquire', '--json']), 1).status, 1);
});

test('throttling: each call backs off with jitter and goes through', async (t) => {
  const { hosts, proxy } = await fleet(t, 1, 1);
  proxy.faults.push({ operation: 'GetParametersByPath', kind: 'throttle', count: 3 });

  const run = ok(await runSlotCli(hosts[0] as SlotHost, ['acquire', '--json']));

  assert.equal(jsonOf<{ acquired: boolean }>(run).acquired, true);
  assert.equal(
    run.stderr.match(
      /ssm:GetParametersByPath on \S+ failed \(Rate exceeded \(ThrottlingException\)\); trying again in \d+ ms/g,
    )?.length,
    3,
    run.stderr,
  );
});

test('throttled throughout: exit 1 with the error, never an answer about the slots, nothing claimed', async (t) => {
  const { hosts, proxy } = await fleet(t, 2, 1);
  const [a, b] = hosts as [SlotHost, SlotHost];
  proxy.faults.push({ operation: 'GetParametersByPath', kind: 'throttle', count: 8 });

  const run = ok(await runSlotCli(a, ['acquire', '--json']), 1);

  assert.equal(run.stdout, '', 'neither "acquired" nor "taken by someone" is printed');
  assert.match(
    run.stderr,
    /GetParametersByPath on \S+ failed after 8 attempts: Rate exceeded \(ThrottlingException\); nothing was decided/,
  );
  assert.equal(
    jsonOf<{ acquired: boolean }>(ok(await runSlotCli(b, ['acquire', '--json']))).acquired,
    true,
    'the slot is still free',
  );
});

test('bad input changes nothing: a TTL short of drain + reboot + re-registration exits 78, naming them', async (t) => {
  const { hosts, proxy } = await fleet(t, 1, 1, { REBOOT_LOCK_TTL: '40m', REBOOT_TIMEOUT: '5m' });
  const host = hosts[0] as SlotHost;

  const config = ok(await runSlotCli(host, ['acquire']), 78);
  assert.match(
    config.stderr,
    new RegExp(
      'environment: REBOOT_LOCK_TTL=40m must be longer than DRAIN_TIMEOUT=30m \\(default\\) \\+ ' +
        'REBOOT_TIMEOUT=5m \\(environment\\) \\+ REGISTRATION_TIMEOUT=5m \\(default\\) = 40m',
    ),
  );
  const fixed = { ...host, env: { ...host.env, REBOOT_LOCK_TTL: '2h' } };
  const ttl = ok(await runSlotCli(fixed, ['acquire', '--ttl', '30s']), 78);
  assert.match(
    ttl.stderr,
    /--ttl "30s" is not a duration in range; allowed: a number with a unit ms, s, m or h, from 1m to 24h/,
  );
  assert.match(
    ok(await runSlotCli(fixed, ['status', '--root', '/tmp']), 2).stderr,
    /an image root \(--root\) has none/,
  );
  assert.match(
    ok(await runSlotCli(fixed, ['renew']), 2).stderr,
    /reboot-slot: expected acquire, release, status, got "renew"/,
  );
  assert.deepEqual(proxy.calls, [], 'SSM was not asked anything');
});

test('without an instance id from IMDS there is no holder: exit 1, nothing claimed', async (t) => {
  const { hosts, proxy } = await fleet(t, 1, 1);
  const host = hosts[0] as SlotHost;
  const run = ok(
    await runSlotCli({ ...host, env: { ...host.env, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' } }, [
      'acquire',
    ]),
    1,
  );
  assert.match(run.stderr, /IMDS at http:\/\/127\.0\.0\.1:9 did not answer/);
  assert.deepEqual(proxy.calls, []);
});

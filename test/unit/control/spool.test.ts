import assert from 'node:assert/strict';
import { test } from 'node:test';

import { encodeSegment, Spool } from '../../../src/control/spool.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { sample } from './fixtures.ts';

const DIR = '/var/lib/ecs-host-agent/spool';
const DAY = 86_400_000;

function spool(host: FakeHost, maxBytes = 2 ** 30, maxAgeMs = DAY): Spool {
  return new Spool(host, { dir: DIR, maxBytes, maxAgeMs }, silentLogger);
}

/** An open spool holding samples 1 … count, one segment each. */
async function spoolOf(host: FakeHost, count: number): Promise<Spool> {
  const writer = spool(host);
  await writer.open();
  for (let i = 1; i <= count; i++) await writer.append([sample(i)]);
  return writer;
}

function segmentPath(host: FakeHost, sequence: number): string {
  return [...host.files.keys()].find((p) => p.includes(`/${String(sequence).padStart(12, '0')}-`)) as string;
}

function freshHost(): FakeHost {
  const host = new FakeHost();
  host.clock = new Date(Date.UTC(2026, 10, 22, 13, 0, 0));
  return host;
}

test('segments come back oldest first, in batches, and survive a reopen', async () => {
  const host = freshHost();
  const first = spool(host);
  await first.open();
  for (let i = 1; i <= 5; i++) await first.append([sample(i)]);
  assert.equal((await host.stat(DIR))?.kind, 'directory');
  assert.equal(host.files.get(`${DIR}/000000000001-${Date.parse(sample(1).time)}-1.seg`)?.mode, 0o600);

  const reopened = spool(host);
  await reopened.open();
  assert.equal(reopened.status().pendingSamples, 5);
  const batch = await reopened.oldest(3, 2 ** 20);
  assert.deepEqual(
    batch.items.map((s) => s.id),
    [1, 2, 3].map((i) => sample(i).id),
  );
  await reopened.remove(batch.segments);
  assert.deepEqual(
    (await reopened.oldest(10, 2 ** 20)).items.map((s) => s.id),
    [4, 5].map((i) => sample(i).id),
  );
  await reopened.append([sample(6)]);
  assert.match([...host.files.keys()].filter((p) => p.endsWith('.seg')).at(-1) ?? '', /\/000000000006-/);
});

test('a torn segment and a leftover temporary file are dropped and counted, not fatal', async () => {
  const host = freshHost();
  await spoolOf(host, 3);
  const second = segmentPath(host, 2);
  const text = host.text(second) as string;
  host.putFile(second, text.slice(0, text.length - 40));
  host.putFile(`${DIR}/.000000000004-1-1.seg.123.abcd.tmp`, 'half');

  const reader = spool(host);
  await reader.open();
  assert.equal(host.files.has(`${DIR}/.000000000004-1-1.seg.123.abcd.tmp`), false);
  const batch = await reader.oldest(10, 2 ** 20);
  assert.deepEqual(
    batch.items.map((s) => s.id),
    [sample(1).id, sample(3).id],
  );
  assert.equal(reader.status().droppedSamples, 1);
  assert.equal(host.files.has(second), false);
});

test('over the size cap the oldest samples go first, and the counter says how many', async () => {
  const host = freshHost();
  const segmentBytes = Buffer.byteLength(encodeSegment([sample(1)]));
  const small = spool(host, segmentBytes * 3 + 10);
  await small.open();
  for (let i = 1; i <= 10; i++) await small.append([sample(i)]);
  assert.deepEqual(small.status(), {
    pendingSamples: 3,
    pendingBytes: segmentBytes * 3,
    droppedSamples: 7,
    rejectedSamples: 0,
  });
  assert.deepEqual(
    (await small.oldest(10, 2 ** 20)).items.map((s) => s.id),
    [8, 9, 10].map((i) => sample(i).id),
  );
  const reopened = spool(host, segmentBytes * 3 + 10);
  await reopened.open();
  assert.equal(reopened.status().droppedSamples, 7, 'the counter survives a restart');
});

test('samples older than the age cap are dropped when the spool opens or grows', async () => {
  const host = freshHost();
  host.clock = new Date(Date.parse(sample(3).time));
  const aging = spool(host, 2 ** 30, 30 * 60_000);
  await aging.open();
  for (let i = 1; i <= 3; i++) await aging.append([sample(i)]);
  host.clock = new Date(Date.parse(sample(2).time) + 30 * 60_000 + 1);
  const reopened = spool(host, 2 ** 30, 30 * 60_000);
  await reopened.open();
  assert.deepEqual(reopened.status().pendingSamples, 1);
  assert.equal(reopened.status().droppedSamples, 2);
});

test(
  'a name another writer took meanwhile is not overwritten: the segment takes the next sequence ' + 'number',
  async () => {
    const host = freshHost();
    const writer = spool(host);
    await writer.open();
    const taken = `${DIR}/000000000001-${Date.parse(sample(1).time)}-1.seg`;
    host.putFile(taken, encodeSegment([{ ...sample(1), id: 'the-other-writer' }]), 0o600);
    await writer.append([sample(1)]);
    assert.equal(host.files.has(`${DIR}/000000000002-${Date.parse(sample(1).time)}-1.seg`), true);
    assert.deepEqual(
      [...host.files.keys()].filter((path) => path.endsWith('.tmp')),
      [],
      'the temporary name is removed',
    );

    const reader = spool(host);
    await reader.open();
    assert.deepEqual(
      (await reader.oldest(10, 2 ** 20)).items.map((s) => s.id),
      ['the-other-writer', sample(1).id],
    );
  },
);

test(
  "another writer's temporary file is left alone while it may still be written; a crash's " + 'leftover is removed',
  async () => {
    const host = freshHost();
    const leftover = `${DIR}/.0f0e.seg.tmp`;
    host.putFile(leftover, 'half');
    host.clock = new Date(5 * 60_000); // FakeHost files are from time 0: five minutes old
    await spool(host).open();
    assert.equal(host.files.has(leftover), true);
    host.clock = new Date(11 * 60_000);
    await spool(host).open();
    assert.equal(host.files.has(leftover), false);
  },
);

test('a segment another process delivered and removed is gone, not dropped', async () => {
  const host = freshHost();
  const writer = await spoolOf(host, 2);
  await host.rm(segmentPath(host, 1));
  const batch = await writer.oldest(10, 2 ** 20);
  assert.deepEqual(
    batch.items.map((s) => s.id),
    [sample(2).id],
  );
  assert.deepEqual(writer.status(), { ...writer.status(), pendingSamples: 1, droppedSamples: 0 });
});

test("a torn segment's error quotes what it found escaped: no raw control bytes reach the log", async () => {
  const host = freshHost();
  await spoolOf(host, 2);
  const first = segmentPath(host, 1);
  host.putFile(first, '\u001b[2J\u001b]0;pwned\u0007{"format" \u202e\u0000garbage\n');
  const reasons: unknown[] = [];
  const error = (_: string, fields?: Record<string, unknown>) => void reasons.push(fields?.reason);
  const logger = { ...silentLogger, error };
  const reader = new Spool(host, { dir: DIR, maxBytes: 2 ** 30, maxAgeMs: DAY }, logger);
  await reader.open();
  assert.deepEqual(
    (await reader.oldest(10, 2 ** 20)).items.map((s) => s.id),
    [sample(2).id],
  );
  const escaped = String.raw`"\u001b[2J\u001b]0;pwned\u0007{\"format\" \u202e\u0000garbage"`;
  assert.deepEqual(reasons, [`the header line is not JSON: ${escaped}`]);
});

test('a sample appended while a delivered segment is being removed stays in the spool', async () => {
  const host = freshHost();
  const shared = await spoolOf(host, 1);
  const delivered = await shared.oldest(10, 2 ** 20);
  let publish: () => void = () => {};
  let publishing: () => void = () => {};
  const gate = new Promise<void>((resolve) => (publish = resolve));
  const linking = new Promise<void>((resolve) => (publishing = resolve));
  const link = host.linkExclusive.bind(host);
  host.linkExclusive = async (from, to) => {
    publishing();
    await gate;
    return link(from, to);
  };
  const appending = shared.append([sample(2)]); // the metrics job's sample is being published …
  await linking;
  await shared.remove(delivered.segments); // … while the delivery loop removes what it delivered
  publish();
  await appending;
  assert.equal(shared.status().pendingSamples, 1);
  assert.deepEqual(
    (await shared.oldest(10, 2 ** 20)).items.map((s) => s.id),
    [sample(2).id],
  );
});

test('counter writes that overlap leave the latest counts on disk, not the older ones', async () => {
  const host = freshHost();
  const shared = await spoolOf(host, 1);
  let finishFirst: () => void = () => {};
  const firstHeld = new Promise<void>((resolve) => (finishFirst = resolve));
  const write = host.writeFileAtomic.bind(host);
  let writes = 0;
  host.writeFileAtomic = async (path, data, options) => {
    if (path.endsWith('/counters.json') && ++writes === 1) await firstHeld; // a slow disk for the first write
    return write(path, data, options);
  };
  const first = shared.countRejected(1);
  const second = shared.countRejected(1);
  await new Promise((resolve) => setImmediate(resolve));
  finishFirst();
  await Promise.all([first, second]);
  assert.match(host.text(`${DIR}/counters.json`) ?? '', /"rejectedSamples":2/);
});

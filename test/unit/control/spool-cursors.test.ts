import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SharedSpool } from '../../../src/control/spool-cursors.ts';
import { Spool } from '../../../src/control/spool.ts';
import type { DeliverySpool } from '../../../src/control/spool-cursors.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { recordingLogger, sample } from './fixtures.ts';

const DIR = '/var/lib/ecs-host-agent/spool';
const DAY = 86_400_000;

function freshHost(): FakeHost {
  const host = new FakeHost();
  host.clock = new Date(Date.UTC(2026, 10, 22, 13, 0, 0));
  return host;
}

/** What a process of the agent opens: the spool and its sinks' cursors (the daemon forgets sinks turned off). */
function open(host: FakeHost, sinks: readonly string[], options: { forgetOthers?: boolean; maxBytes?: number } = {}) {
  const logger = recordingLogger();
  const spool = new Spool(host, { dir: DIR, maxBytes: options.maxBytes ?? 2 ** 30, maxAgeMs: DAY }, logger);
  const shared = new SharedSpool(host, spool, { dir: DIR, sinks, forgetOthers: options.forgetOthers ?? true }, logger);
  return { shared, logger };
}

/** Everything waiting for one sink, delivered in batches of `batch`: the ids it got, in order. */
async function drain(reader: DeliverySpool, batch = 2): Promise<string[]> {
  await reader.open();
  const got: string[] = [];
  while (!reader.empty) {
    const next = await reader.oldest(batch, 2 ** 20);
    got.push(...next.items.map((s) => s.id));
    await reader.remove(next.segments);
  }
  return got;
}

const ids = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => sample(from + i).id);
const segmentFiles = (host: FakeHost) => [...host.files.keys()].filter((path) => path.endsWith('.seg'));

test('a sink that is down holds back only its own samples; each sink gets every sample once, in order', async () => {
  const host = freshHost();
  const { shared } = open(host, ['control', 'cloudwatch']);
  const control = shared.reader('control');
  const cloudwatch = shared.reader('cloudwatch');
  for (let i = 1; i <= 3; i++) await shared.append(sample(i));
  assert.deepEqual(await drain(control), ids(1, 3));
  assert.equal(segmentFiles(host).length, 3, 'cloudwatch has not had them: they stay');
  assert.equal(control.status().pendingSamples, 0);
  assert.equal(cloudwatch.status().pendingSamples, 3);
  for (let i = 4; i <= 5; i++) await shared.append(sample(i));
  assert.deepEqual(await drain(control), ids(4, 5), 'the working sink goes on from its own place');
  assert.deepEqual(await drain(cloudwatch, 4), ids(1, 5));
  assert.deepEqual(segmentFiles(host), [], 'every sink passed them: removed');
  assert.deepEqual(shared.status(), { pendingSamples: 0, pendingBytes: 0, droppedSamples: 0, rejectedSamples: 0 });
});

test('cursors survive a restart; segments every cursor passed before a crash are removed at open', async () => {
  const host = freshHost();
  const first = open(host, ['control', 'remote-write']).shared;
  for (let i = 1; i <= 4; i++) await first.append(sample(i));
  await drain(first.reader('control'));
  const writer = first.reader('remote-write');
  const batch = await writer.oldest(2, 2 ** 20);
  // The crash: the cursor is on disk, the segments it passed are not removed yet.
  const cursorFile = `${DIR}/sinks/remote-write.json`;
  await host.writeFileAtomic(
    cursorFile,
    JSON.stringify({ sequence: batch.segments.at(-1)?.sequence, droppedSamples: 0, rejectedSamples: 0 }),
  );
  assert.equal(segmentFiles(host).length, 4);

  const second = open(host, ['control', 'remote-write']).shared;
  await second.open();
  assert.equal(segmentFiles(host).length, 2, 'the two both sinks had are gone');
  assert.deepEqual(await drain(second.reader('control')), []);
  assert.deepEqual(await drain(second.reader('remote-write')), ids(3, 4));
  assert.equal(host.files.get(cursorFile)?.mode, 0o600);
});

test('after the spool emptied and the agent restarted, new samples come after every cursor on disk', async () => {
  const host = freshHost();
  const first = open(host, ['control', 'cloudwatch']).shared;
  for (let i = 1; i <= 3; i++) await first.append(sample(i));
  await drain(first.reader('control')); // cloudwatch still needs them: control's cursor is written
  await drain(first.reader('cloudwatch')); // the spool empties: cloudwatch's cursor may lag on disk
  assert.deepEqual(segmentFiles(host), []);
  const onDisk = (sink: string) =>
    (JSON.parse(host.text(`${DIR}/sinks/${sink}.json`) ?? '{}') as { sequence: number }).sequence;
  assert.deepEqual([onDisk('control'), onDisk('cloudwatch')], [3, 0], 'no fsync for a place nothing depends on');

  const second = open(host, ['control', 'cloudwatch']).shared;
  await second.append(sample(4));
  assert.match(segmentFiles(host)[0] ?? '', /\/000000000004-/);
  assert.deepEqual(await drain(second.reader('control')), ids(4, 4));
  assert.deepEqual(await drain(second.reader('cloudwatch')), ids(4, 4));
});

test('with the control endpoint alone, a delivery writes no cursor: it costs what it cost before', async () => {
  const host = freshHost();
  const { shared } = open(host, ['control']);
  await shared.open();
  const writes = host.writes.length;
  for (let i = 1; i <= 3; i++) {
    await shared.append(sample(i));
    await drain(shared.reader('control'));
  }
  assert.deepEqual(
    host.writes.slice(writes).filter((path) => path.includes('/sinks/')),
    [],
  );
});

test('the caps drop the oldest segments; only the sink that had not had them counts them as dropped', async () => {
  const host = freshHost();
  const { shared, logger } = open(host, ['control', 'cloudwatch'], { maxBytes: 4 * 1024 });
  const control = shared.reader('control');
  const cloudwatch = shared.reader('cloudwatch');
  let appended = 0;
  while (segmentFiles(host).length === appended) {
    appended++;
    await shared.append(sample(appended));
    await drain(control);
  }
  const kept = cloudwatch.status().pendingSamples;
  assert.ok(kept > 0 && kept < appended, `the cap dropped some (${appended - kept} of ${appended})`);
  assert.equal(cloudwatch.status().droppedSamples, appended - kept);
  assert.equal(control.status().droppedSamples, 0, 'control had them all');
  assert.deepEqual(await drain(cloudwatch), ids(appended - kept + 1, appended), 'the newest are kept, in order');
  assert.ok(logger.lines.some((line) => /over its cap/.test(line)));
  const reopened = open(host, ['control', 'cloudwatch']).shared;
  await reopened.open();
  assert.equal(reopened.statusOf('cloudwatch').droppedSamples, appended - kept, 'the count survives a restart');
});

test('the daemon forgets a sink turned off; a one-shot command with other settings keeps its samples', async () => {
  const host = freshHost();
  const daemon = open(host, ['control', 'cloudwatch']).shared;
  for (let i = 1; i <= 2; i++) await daemon.append(sample(i));
  await drain(daemon.reader('control'));

  const oneShot = open(host, ['control'], { forgetOthers: false }).shared;
  await oneShot.append(sample(3));
  assert.deepEqual(await drain(oneShot.reader('control')), ids(3, 3));
  assert.equal(segmentFiles(host).length, 3, "cloudwatch's cursor holds what it has not had");

  const restarted = open(host, ['control', 'cloudwatch']).shared;
  assert.deepEqual(await drain(restarted.reader('cloudwatch')), ids(1, 3), 'turned on again: nothing was lost');

  for (let i = 4; i <= 5; i++) await restarted.append(sample(i));
  const { shared: withoutCloudwatch, logger } = open(host, ['control']);
  await withoutCloudwatch.open();
  assert.equal(host.files.has(`${DIR}/sinks/cloudwatch.json`), false);
  assert.ok(
    logger.lines.some((line) => /the cloudwatch sink is off: its place in the spool .* is forgotten/.test(line)),
  );
  assert.deepEqual(await drain(withoutCloudwatch.reader('control')), ids(4, 5));
  assert.deepEqual(segmentFiles(host), [], 'nothing waits for a sink that is off');
});

test('an unreadable cursor starts its sink again from the oldest sample kept: twice rather than lost', async () => {
  const host = freshHost();
  const first = open(host, ['control', 'cloudwatch']).shared;
  for (let i = 1; i <= 3; i++) await first.append(sample(i));
  await drain(first.reader('cloudwatch'));
  host.putFile(`${DIR}/sinks/cloudwatch.json`, '{"sequence": "lots"}');
  const { shared, logger } = open(host, ['control', 'cloudwatch']);
  assert.deepEqual(await drain(shared.reader('cloudwatch')), ids(1, 3));
  assert.ok(logger.lines.some((line) => /cloudwatch\.json does not hold a spool cursor/.test(line)));
});

test('the control endpoint keeps the counters of a spool written before there were several sinks', async () => {
  const host = freshHost();
  host.putFile(`${DIR}/counters.json`, '{"droppedSamples":7,"rejectedSamples":2}\n');
  const { shared } = open(host, ['control', 'remote-write']);
  await shared.open();
  assert.equal(shared.statusOf('control').droppedSamples, 7);
  assert.equal(shared.statusOf('control').rejectedSamples, 2);
  assert.equal(shared.statusOf('remote-write').droppedSamples, 0);
});

test('refused samples are counted per sink and the cursor moves past them', async () => {
  const host = freshHost();
  const { shared } = open(host, ['control', 'cloudwatch']);
  await shared.append(sample(1));
  const cloudwatch = shared.reader('cloudwatch');
  await cloudwatch.open();
  const batch = await cloudwatch.oldest(10, 2 ** 20);
  await cloudwatch.remove(batch.segments);
  await cloudwatch.countRejected(1);
  assert.deepEqual(cloudwatch.status(), { pendingSamples: 0, pendingBytes: 0, droppedSamples: 0, rejectedSamples: 1 });
  assert.equal(shared.status().rejectedSamples, 1);
  assert.equal(shared.status().pendingSamples, 1, 'control still waits for it');
});

test("two writers never give one number to two segments; each delivers the other's waiting samples", async () => {
  const host = freshHost();
  const daemon = open(host, ['control', 'cloudwatch']).shared;
  await daemon.append(sample(1));
  const oneShot = open(host, ['control', 'cloudwatch'], { forgetOthers: false }).shared;
  await oneShot.append(sample(2));
  await drain(oneShot.reader('control')); // cloudwatch is down for the one-shot: its sample stays
  await daemon.append(sample(3)); // numbered 2 from the daemon's own listing, then moved on
  const numbers = segmentFiles(host).map((path) => path.split('/').at(-1)?.slice(0, 12));
  assert.equal(new Set(numbers).size, numbers.length, `one segment per number: ${numbers.join(' ')}`);
  assert.deepEqual(
    await drain(daemon.reader('cloudwatch')),
    ids(1, 3),
    "the one-shot's sample is delivered in its place",
  );
  // The daemon's control cursor is its own: what the one-shot delivered to control comes again (at least once).
  assert.deepEqual(await drain(daemon.reader('control')), ids(1, 3));
});

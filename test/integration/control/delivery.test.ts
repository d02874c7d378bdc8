import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';

import { scratchDir } from '../../support/scratch.ts';
import { ManualClock } from '../../unit/metrics/manual-clock.ts';
import { sample } from '../../unit/control/fixtures.ts';
import { agentSide, metricsRunner } from './agent-side.ts';
import { startEndpoint, type TestEndpoint } from './receiver-server.ts';

/**
 * Real samples of this machine, delivered through the real spool on disk to the
 * reference receiver on a loopback port. IMDS is off: nothing leaves loopback.
 */
async function runner(t: TestContext, dir: string, endpoint: TestEndpoint, extra: Record<string, string> = {}) {
  return metricsRunner(t, dir, endpoint.url, extra);
}

test('endpoint down for a while, then back: every sample arrives exactly once, in order', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  const { runner: metrics, clock } = await runner(t, scratchDir(t), endpoint);
  const taken: string[] = [];
  const take = async () => {
    const step = await metrics.step();
    taken.push(step.sample.id);
    return step;
  };
  assert.equal((await take()).destination, 'control');
  await endpoint.stop();
  for (let i = 0; i < 5; i++) assert.equal((await take()).destination, 'spool');
  await endpoint.start();
  clock.advance(5); // past the (1 ms) backoff
  assert.equal((await take()).destination, 'control');
  assert.deepEqual(
    endpoint.received.map((s) => s.id),
    taken,
  );
  assert.equal(endpoint.receiver.counts.duplicates, 0);
  assert.equal(endpoint.statuses.at(-1)?.spool.droppedSamples, 0);
});

test('with the spool cap set low, the drop counter equals what was dropped', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  await endpoint.stop();
  // Below SPOOL_MAX_BYTES's minimum, which config refuses: the Spool itself takes any cap.
  const clock = new ManualClock();
  const { delivery, accept } = agentSide(scratchDir(t), endpoint.url, { spoolMaxBytes: 4 * 1024, clock });
  const taken: string[] = [];
  const take = async (index: number) => {
    taken.push(sample(index).id);
    await accept(sample(index, new Date()));
    return delivery.round();
  };
  for (let i = 1; i <= 12; i++) await take(i);
  await endpoint.start();
  clock.advance(5); // past the (1 ms) backoff
  await take(13);
  const received = endpoint.received.map((s) => s.id);
  const dropped = endpoint.statuses.at(-1)?.spool.droppedSamples ?? -1;
  assert.ok(dropped > 0, 'the cap made the spool drop samples');
  assert.equal(dropped, taken.length - received.length);
  assert.deepEqual(received, taken.slice(dropped), 'the oldest were dropped, the rest arrived in order');
});

test(
  'bad replies (500, 429, slow, malformed, huge, wrong type) are backed off with a clear log ' + 'line, never a crash',
  async (t) => {
    const endpoint = await startEndpoint();
    t.after(() => endpoint.stop());
    const { runner: metrics, logger, clock } = await runner(t, scratchDir(t), endpoint);
    const json = { 'content-type': 'application/json' };
    const faults = [
      { status: 500, headers: json, body: new TextEncoder().encode('{"error":"boom"}') },
      { status: 429, headers: { ...json, 'retry-after': '0' }, body: new Uint8Array() },
      { status: 200, headers: json, body: new TextEncoder().encode('{"batchId": ') },
      { status: 200, headers: json, body: new Uint8Array(2 * 2 ** 20).fill(32) },
      { status: 200, headers: { 'content-type': 'text/html' }, body: new TextEncoder().encode('<html>') },
    ];
    const taken: string[] = [];
    for (const reply of faults) {
      endpoint.fault = () => reply;
      clock.advance(5); // past the (1 ms) backoff of the last failure
      const step = await metrics.step();
      taken.push(step.sample.id);
      assert.equal(step.destination, 'spool');
    }
    endpoint.fault = async (request) => {
      await delay(1500); // the endpoint's fault: a slow reply (still well within the client's timeout)
      return endpoint.receiver.handle(request);
    };
    clock.advance(5);
    taken.push((await metrics.step()).sample.id);
    endpoint.fault = () => null;
    clock.advance(5);
    taken.push((await metrics.step()).sample.id);
    const warnings = logger.lines.filter((line) => line.startsWith('warn: control endpoint'));
    for (const reason of [
      /HTTP 500/,
      /HTTP 429/,
      /malformed JSON/,
      /larger than 65536 bytes/,
      /content type "text\/html"/,
    ]) {
      assert.ok(
        warnings.some((line) => reason.test(line)),
        `a log line says ${reason}: ${warnings.join('\n')}`,
      );
    }
    assert.deepEqual(
      [...new Set(endpoint.received.map((s) => s.id))],
      taken,
      'everything arrives, once each, in order',
    );
  },
);

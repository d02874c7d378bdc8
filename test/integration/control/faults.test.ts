/**
 * Delivery against a fake endpoint that misbehaves: a real loopback HTTP(S) server in front of the reference
 * receiver, answering 413 to everything, receipts of other batches, nothing at all (hung), or with a
 * self-signed certificate. The agent's side is the real code on this machine (sampler, spool on disk, delivery
 * loop, the daemon's scheduler); nothing leaves loopback.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { test } from 'node:test';

import { DeliveryLoop } from '../../../src/control/delivery-loop.ts';
import type { Batch } from '../../../src/control/protocol.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { startScheduler, type TaskRecord } from '../../../src/daemon/scheduler.ts';
import { daemonTasks } from '../../../src/daemon/tasks.ts';
import type { HttpResponse, ServedRequest } from '../../../src/host/host.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { createMetricsJob } from '../../../src/jobs/metrics.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { scratchDir } from '../../support/scratch.ts';
import { FACTS, sample } from '../../unit/control/fixtures.ts';
import { pollUntil } from '../../support/poll.ts';
import { ManualClock } from '../../unit/metrics/manual-clock.ts';
import { selfSignedCertificate } from '../doctor/loopback.ts';
import { agentConfig, agentSide, metricsRunner } from './agent-side.ts';
import { startEndpoint } from './receiver-server.ts';

function samplesIn(request: ServedRequest): readonly Sample[] {
  return (JSON.parse(Buffer.from(request.body).toString()) as Batch).samples;
}
const isPost = (request: ServedRequest) => request.method === 'POST' && request.path === '/v1/samples';
const proxy413: HttpResponse = {
  status: 413,
  headers: { 'content-type': 'text/html' },
  body: new TextEncoder().encode('<html><body><h1>413 Request Entity Too Large</h1></body></html>'),
};

test('413 to everything: nothing lost, an error naming the endpoint, all delivered after', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  const { runner, logger, clock } = await metricsRunner(t, scratchDir(t), endpoint.url);
  const taken: string[] = [];
  const take = async () => {
    clock.advance(2); // past the (1 ms) backoff
    const step = await runner.step();
    taken.push(step.sample.id);
    return step;
  };
  endpoint.fault = (request) => (isPost(request) ? proxy413 : null);
  for (let i = 0; i < 4; i++) {
    const step = await take();
    assert.equal(step.destination, 'spool');
    assert.match(step.summary, /failing \(\d+ failed attempts? in a row\): POST \/v1\/samples answered HTTP 413 /);
  }
  const errors = logger.lines.filter((line) => line.startsWith('error: '));
  assert.equal(errors.length, 4, errors.join('\n'));
  for (const line of errors) {
    assert.ok(line.startsWith(`error: control endpoint ${endpoint.url}: POST /v1/samples answered HTTP 413 `), line);
    assert.match(line, / single sample of \d+ bytes, within the protocol's maximum of 1048576 bytes: /);
    assert.match(line, /: a fault of the endpoint or of a proxy in front of it/);
  }
  // The proxy's limit now lets two samples through: batches are halved until they fit, nothing is dropped.
  const sizes: number[] = [];
  endpoint.fault = (request) => {
    if (!isPost(request)) return null;
    sizes.push(samplesIn(request).length);
    return samplesIn(request).length > 2 ? proxy413 : null;
  };
  const recovered = await take();
  assert.equal(recovered.destination, 'control');
  assert.deepEqual(sizes, [5, 3, 2, 1, 2]);
  endpoint.fault = () => null;
  await take();
  assert.deepEqual(
    endpoint.received.map((s) => s.id),
    taken,
    'every sample, once, in order',
  );
  assert.equal(endpoint.statuses.at(-1)?.spool.rejectedSamples, 0);
  assert.equal(endpoint.statuses.at(-1)?.spool.droppedSamples, 0);
});

test('receipts for other batches are no receipts: sent again, the endpoint keeps each sample once', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  const { runner, logger, clock } = await metricsRunner(t, scratchDir(t), endpoint.url);
  const other = '00000000-0000-5000-8000-000000000000';
  endpoint.fault = async (request) => {
    if (!isPost(request)) return null;
    const reply = await endpoint.receiver.handle(request); // stored: only the receipt is wrong
    const stored = JSON.parse(Buffer.from(reply.body).toString()) as { accepted: number };
    const receipt = JSON.stringify({ batchId: other, accepted: stored.accepted, duplicates: 0 });
    return { status: 200, headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode(receipt) };
  };
  const taken: string[] = [];
  for (let i = 0; i < 3; i++) {
    clock.advance(2); // past the (1 ms) backoff
    const step = await runner.step();
    taken.push(step.sample.id);
    assert.equal(step.destination, 'spool', 'kept: the endpoint did not say it stored this batch');
  }
  assert.ok(logger.lines.some((line) => line.includes(`with the receipt of another batch (${other})`)));
  endpoint.fault = () => null;
  clock.advance(2);
  const last = await runner.step();
  taken.push(last.sample.id);
  assert.equal(last.destination, 'control');
  assert.deepEqual(
    endpoint.received.map((s) => s.id),
    taken,
    'stored once each, in order',
  );
  assert.ok(endpoint.receiver.counts.duplicates > 0, 'the re-sends were recognised as duplicates');
});

test('hung replies do not cut the sampling rate: a sample per interval while one hangs, then all arrive', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  let release: () => void = () => {};
  const hung = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  let posts = 0;
  endpoint.fault = async (request) => {
    if (isPost(request) && ++posts === 1) await hung; // the endpoint takes the first request and says nothing
    return null;
  };
  const host = new RealHost('/');
  const config = agentConfig(scratchDir(t), endpoint.url, { CONVERGE_INTERVAL: 'off', METRICS_INTERVAL: '10s' });
  const clock = new ManualClock();
  const context = { host, config, os: {} as OsFacts, logger: silentLogger, resetAgentState: false };
  const job = createMetricsJob({ clock, hostFacts: FACTS, backoff: { baseMs: 1, maxMs: 1, probeMs: 1 } });
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  const tasks = daemonTasks(async () => context, context, [job]);
  // random 0: the schedule's offset is 0, so the runs fall on whole intervals.
  const finished = (record: TaskRecord) => void records.push(record);
  const scheduler = startScheduler(tasks, { clock, random: () => 0, signal: stop.signal, finished }).done;
  t.after(async () => {
    stop.abort();
    await scheduler;
  });
  await pollUntil(() => records.length === 1, 'the first sample');
  for (let taken = 2; taken <= 8; taken++) {
    clock.advance(config.METRICS_INTERVAL);
    await pollUntil(() => records.length === taken, `sample ${taken}`);
  }
  assert.equal(records.length, 8, 'eight intervals, eight samples: the hung request held none of them up');
  assert.equal(posts, 1, 'and delivery did not overlap itself');
  assert.match(records.at(-1)?.summary ?? '', /8 samples waiting, attempt running since /);
  release();
  await pollUntil(() => endpoint.received.length === 8, 'all eight samples at the endpoint');
  assert.equal(new Set(endpoint.received.map((s) => s.id)).size, 8);
});

test('a self-signed endpoint: the error points at CONTROL_CA_BUNDLE, and with it the samples arrive', async (t) => {
  const certificate = selfSignedCertificate(t);
  const receiver = new Receiver({ token: null });
  const server = createHttpsServer({ cert: certificate.cert, key: certificate.key }, (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const headers = Object.fromEntries(Object.entries(incoming.headers).map(([k, v]) => [k, String(v)]));
      const body = Buffer.concat(chunks);
      const request = { method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers, body };
      void receiver.handle(request).then((reply) => {
        outgoing.writeHead(reply.status, reply.headers).end(Buffer.from(reply.body));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  const dir = scratchDir(t);
  const { runner, logger } = await metricsRunner(t, dir, url);
  const refused = await runner.step();
  assert.equal(refused.destination, 'spool');
  const warning = logger.lines.find((line) => line.startsWith('warn: control endpoint')) ?? '';
  const hint = /self-signed certificate \(DEPTH_ZERO_SELF_SIGNED_CERT\); trust the endpoint's CA with CONTROL_CA/;
  assert.match(warning, hint);
  assert.doesNotMatch(warning + refused.summary, /use-system-ca|Node\.js/);
  assert.match(readFileSync(certificate.certFile, 'utf8'), /BEGIN CERTIFICATE/);
  const trusted = await metricsRunner(t, dir, url, { CONTROL_CA_BUNDLE: certificate.certFile });
  assert.equal((await trusted.runner.step()).destination, 'control');
  assert.equal(receiver.counts.accepted, 2, 'the spooled sample and the new one');
});

test('after an outage a ping ends the backoff: delivered long before the backoff would have allowed it', async (t) => {
  const endpoint = await startEndpoint();
  t.after(() => endpoint.stop());
  await endpoint.stop();
  const clock = new ManualClock();
  const probeMs = 30_000;
  const backoff = { baseMs: 15 * 60_000, maxMs: 15 * 60_000, probeMs };
  const { delivery, accept } = agentSide(scratchDir(t), endpoint.url, { clock, backoff });
  const loop = new DeliveryLoop(delivery, clock);
  t.after(() => loop.stop());
  await accept(sample(1, new Date()));
  loop.start();
  loop.kick();
  await pollUntil(() => delivery.state().consecutiveFailures === 1 && clock.waiting === 1, 'the first attempt to fail');
  const backingOffUntil = Date.parse(delivery.state().backingOffUntil ?? '');
  clock.advance(probeMs); // a ping while the endpoint is still away
  await pollUntil(() => clock.waiting === 1 && delivery.state().attemptSince === null, 'the first ping to fail');
  assert.equal(endpoint.received.length, 0);
  await endpoint.start();
  clock.advance(probeMs);
  await pollUntil(() => delivery.state().consecutiveFailures === 0, 'the delivery to succeed');
  assert.deepEqual(
    endpoint.received.map((s) => s.id),
    [sample(1).id],
  );
  assert.ok(clock.now() < backingOffUntil, 'delivered well inside the backoff (7.5 to 15 minutes)');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { Context } from '../../../src/cli/context.ts';
import { status } from '../../../src/cli/status.ts';
import type { Batch } from '../../../src/control/protocol.ts';
import { Receiver } from '../../../src/control/receiver.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { LOCK_FILE } from '../../../src/daemon/lock.ts';
import { startScheduler, type TaskRecord } from '../../../src/daemon/scheduler.ts';
import { writeStatus } from '../../../src/daemon/status-file.ts';
import { daemonTasks } from '../../../src/daemon/tasks.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import { createMetricsJob } from '../../../src/jobs/metrics.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import type { OsFacts } from '../../../src/os/facts.ts';
import { FACTS, bodyText } from '../control/fixtures.ts';
import { fakeMachine } from './fake-machine.ts';
import { ManualClock, until } from './manual-clock.ts';

/**
 * The daemon's metrics job as the daemon schedules it (daemonTasks + startScheduler), on a fake machine, with
 * a clock the test moves: sampling keeps its interval whatever the control endpoint does.
 */
const CONTROL = 'http://127.0.0.1:8480';
const INTERVAL = 60_000;
const STAT = '4242 (node) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 11 0 777 1000 100\n';

type Endpoint = (request: HttpRequest) => Promise<HttpResponse>;

/** Longer than an interval, so a sample taken meanwhile finds delivery backing off. */
const BACKOFF = { baseMs: 10 * INTERVAL, maxMs: 10 * INTERVAL, probeMs: 10 * INTERVAL };

function daemonWithMetrics(endpoint: Endpoint) {
  const host = fakeMachine();
  const local = host.http.bind(host);
  host.http = async (request) => {
    if (!request.url.startsWith(CONTROL)) return local(request);
    host.httpCalls.push(request);
    return endpoint(request);
  };
  const config = loadConfig({
    file: 'agent.env',
    fileText: null,
    env: { CONTROL_URL: CONTROL, CONTROL_IDENTITY: 'no', CONVERGE_INTERVAL: 'off', METRICS_INTERVAL: '60s' },
    flags: {},
  });
  const clock = new ManualClock();
  const context = { host, config, os: {} as OsFacts, logger: silentLogger, resetAgentState: false };
  const job = createMetricsJob({ clock, hostFacts: FACTS, backoff: BACKOFF });
  const tasks = daemonTasks(async () => context, context, [job]);
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  // random 0: the schedule's offset is 0, so the runs fall on whole intervals.
  const running = startScheduler(tasks, {
    clock,
    random: () => 0,
    signal: stop.signal,
    finished: async (record) => {
      records.push(record);
      const tasksNow = { [record.name]: record };
      await writeStatus(host, { pid: 4242, startedAt: '', updatedAt: '', state: 'running', tasks: tasksNow });
    },
  });
  /** Lets the metrics task run once more (it sleeps an interval between runs) and waits for its record. */
  const nextSample = async () => {
    const count = records.length;
    clock.advance(INTERVAL);
    await until(() => records.length > count, 'the next metrics run');
  };
  const posts = () => host.httpCalls.filter((request) => request.url === `${CONTROL}/v1/samples`);
  return { host, clock, records, nextSample, posts, stop: async () => (stop.abort(), await running.done) };
}

function samplesOf(request: HttpRequest): readonly Sample[] {
  return (JSON.parse(bodyText(request) || '{}') as Batch).samples;
}

function receiverReply(receiver: Receiver, request: HttpRequest): Promise<HttpResponse> {
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = new TextEncoder().encode(bodyText(request));
  return receiver.handle({ method: 'POST', path: '/v1/samples', headers, body });
}

test('a hung endpoint does not slow sampling: a sample per interval, one request at a time', async () => {
  const received: Sample[] = [];
  const receiver = new Receiver({ token: null, onStored: async (_batch, fresh) => void received.push(...fresh) });
  let release: () => void = () => {};
  const hung = new Promise<void>((resolve) => (release = resolve));
  let first = true;
  const daemon = daemonWithMetrics(async (request) => {
    if (first) {
      first = false;
      await hung; // the endpoint takes the request and says nothing
    }
    return receiverReply(receiver, request);
  });
  try {
    await until(() => daemon.records.length === 1, 'the first metrics run');
    for (let i = 0; i < 5; i++) await daemon.nextSample();
    assert.equal(daemon.records.length, 6, 'six intervals, six samples');
    assert.ok(daemon.records.every((record) => record.result === 'ok'));
    assert.equal(daemon.posts().length, 1, 'delivery never overlaps itself: still the one hung request');
    const summary = daemon.records.at(-1)?.summary ?? '';
    assert.match(summary, /^sample taken; delivery to http:\/\/127\.0\.0\.1:8480: ok, nothing delivered yet; /);
    assert.match(summary, /; 6 samples waiting, attempt running since /);
    release();
    await until(() => received.length === 6, 'the six samples at the endpoint');
    assert.equal(new Set(received.map((s) => s.id)).size, 6, 'each once');
    const sizes = daemon.posts().map((request) => samplesOf(request).length);
    assert.deepEqual(sizes, [1, 5], 'the rest in one batch, right after');
  } finally {
    release();
    await daemon.stop();
  }
});

test('status while the endpoint is down: failing, why, "not tried (backing off until …)", exit 1', async () => {
  const daemon = daemonWithMetrics(async () => {
    throw new Error('connect ECONNREFUSED 127.0.0.1:8480');
  });
  try {
    await until(() => daemon.posts().length === 1 && daemon.clock.waiting >= 2, 'the first delivery attempt to fail');
    await daemon.nextSample();
    const record = daemon.records.at(-1) as TaskRecord;
    assert.equal(record.result, 'ok', 'sampling itself is fine');
    const delivery = (record.details as { delivery: Record<string, unknown> }).delivery;
    const backingOffUntil = String(delivery.backingOffUntil);
    assert.ok(Date.parse(backingOffUntil) > daemon.clock.now(), `backing off until ${backingOffUntil}, still to come`);
    assert.equal(
      record.summary,
      `sample taken; delivery to ${CONTROL} failing (1 failed attempt in a row): ` +
        'POST /v1/samples failed: connect ECONNREFUSED 127.0.0.1:8480; ' +
        `2 samples waiting; not tried (backing off until ${backingOffUntil})`,
    );
    assert.equal(delivery.consecutiveFailures, 1);
    assert.match(String(delivery.lastError), /ECONNREFUSED/);
    assert.doesNotMatch(record.summary, /delivered 0/);

    daemon.host.putFile(LOCK_FILE, '4242 777\n');
    daemon.host.putFile('/proc/4242/stat', STAT);
    const output: string[] = [];
    const out = (text: string) => void output.push(text);
    const context = { host: daemon.host, json: false, out } as unknown as Context;
    assert.equal(await status.run(context, {}, []), 1, 'status fails while delivery fails');
    const shown = output.join('\n');
    assert.ok(shown.includes(`: sample taken; delivery to ${CONTROL} failing (1 failed attempt in a row): `), shown);
    assert.ok(shown.includes(`not tried (backing off until ${backingOffUntil}); next `));
  } finally {
    await daemon.stop();
  }
});

test('after a reload the next run uses the new sinks; settings it cannot use keep the old, fail the run', async () => {
  const received: Sample[] = [];
  const receiver = new Receiver({ token: null, onStored: async (_batch, fresh) => void received.push(...fresh) });
  const host = fakeMachine();
  const local = host.http.bind(host);
  host.http = async (request) => (request.url.startsWith(CONTROL) ? receiverReply(receiver, request) : local(request));
  const base = { CONVERGE_INTERVAL: 'off', METRICS_INTERVAL: '60s', CONTROL_IDENTITY: 'no' };
  const configWith = (env: Record<string, string>) =>
    loadConfig({ file: 'agent.env', fileText: null, env: { ...base, ...env }, flags: {} });
  const clock = new ManualClock();
  const context = { host, config: configWith({}), os: {} as OsFacts, logger: silentLogger, resetAgentState: false };
  const job = createMetricsJob({ clock, hostFacts: FACTS });
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  const schedule = startScheduler(
    daemonTasks(async () => context, context, [job]),
    {
      clock,
      random: () => 0,
      signal: stop.signal,
      finished: (record) => void records.push(record),
    },
  );
  const nextRun = async (afterMs: number) => {
    const count = records.length;
    clock.advance(afterMs);
    await until(() => records.length > count, 'the next metrics run');
    return records.at(-1) as TaskRecord;
  };
  try {
    await until(() => records.length === 1, 'the first metrics run');
    assert.equal(records[0]?.summary, 'sample written to /var/log/ecs-host-agent/metrics.ndjson', 'no sink on');

    context.config = configWith({ CONTROL_URL: CONTROL });
    assert.match((await nextRun(INTERVAL)).summary, /^sample taken; delivery to http:\/\/127\.0\.0\.1:8480: /);
    await until(() => received.length === 1, 'the sample at the endpoint');

    context.config = configWith({ CONTROL_URL: CONTROL, CONTROL_TOKEN_FILE: '/etc/ecs-host-agent/missing-token' });
    const refused = await nextRun(INTERVAL);
    assert.equal(refused.result, 'failed');
    const notUsed = 'the reloaded metrics settings are not used, the previous ones are: ';
    assert.ok(refused.summary.startsWith(notUsed), refused.summary);
    assert.match(refused.summary, /\/missing-token.*; sample taken; delivery to http:\/\/127\.0\.0\.1:8480: /);
    await until(() => received.length === 2, 'the sample taken with the previous settings, delivered');

    context.config = configWith({});
    const backToFile = await nextRun(2 * INTERVAL); // a failed run is retried after twice the interval
    assert.equal(backToFile.result, 'ok');
    assert.equal(backToFile.summary, 'sample written to /var/log/ecs-host-agent/metrics.ndjson');
    assert.equal(host.text('/var/log/ecs-host-agent/metrics.ndjson')?.trim().split('\n').length, 2);
    assert.equal(received.length, 2, 'the control sink is off');
  } finally {
    stop.abort();
    await schedule.done;
  }
});

/**
 * The spot-interruption watch as the daemon runs it: only a 404 means nothing is announced; an IMDS that
 * refuses, rejects the token or fails is a failure, shown and logged (once, then rarely), and the watch keeps
 * its pace. Its IMDS session lives as long as the watch.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Logger } from '../../../src/core/logger.ts';
import type { JobContext } from '../../../src/daemon/job.ts';
import { JOBS } from '../../../src/daemon/jobs.ts';
import type { TaskRecord } from '../../../src/daemon/scheduler.ts';
import { createTaskLog, REMINDER_MS } from '../../../src/daemon/task-log.ts';
import { daemonTasks } from '../../../src/daemon/tasks.ts';
import { createSpotInterruptionJob } from '../../../src/jobs/spot-interruption.ts';
import type { HttpRequest, HttpResponse } from '../../../src/host/host.ts';
import { type FakeHost, textResponse } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { concernContext } from '../../support/concern-context.ts';

const IMDS = 'http://127.0.0.1:1338';
const ACTION = `${IMDS}/latest/meta-data/spot/instance-action`;
const TOKEN = `${IMDS}/latest/api/token`;

/** IMDS as the test scripts it: `token` and `action` answer each request, or throw for "connection refused". */
function imds(host: FakeHost) {
  const script = {
    token: (): HttpResponse => textResponse(200, `token-${++script.tokens}`),
    action: (_request: HttpRequest): HttpResponse => textResponse(404, ''),
    tokens: 0,
  };
  host.onHttp((request) =>
    request.url === TOKEN ? script.token() : request.url === ACTION ? script.action(request) : undefined,
  );
  return script;
}

async function contextFor(host: FakeHost): Promise<JobContext> {
  const config = loadConfig({
    file: 'agent.env',
    fileText: `AWS_EC2_METADATA_SERVICE_ENDPOINT=${IMDS}\n`,
    env: {},
    flags: {},
  });
  const context: ConcernContext = await concernContext(host, config);
  return { ...context, signal: new AbortController().signal };
}

/** A new watch on a Debian host whose IMDS the test scripts. */
async function watch() {
  const host = fakeHostFor('debian-12');
  return { host, script: imds(host), job: createSpotInterruptionJob(), context: await contextFor(host) };
}

const refused = (): HttpResponse => {
  throw new Error('connect ECONNREFUSED 127.0.0.1:1338');
};

test('only a 404 means nothing is announced: refused, 401 and 5xx are failures that say what IMDS did', async () => {
  const { script, job, context } = await watch();
  assert.equal((await job.run(context)).summary, 'no spot interruption announced');
  const cases: Array<[() => void, RegExp]> = [
    [
      () => (script.action = refused),
      /^cannot tell whether a spot interruption is announced: IMDS at http:\S+ did not answer: connect ECONNREFUSED/,
    ],
    [() => (script.action = () => textResponse(503, 'busy')), /answered HTTP 503$/],
    [
      () => ((script.action = () => textResponse(401, '')), (script.token = () => textResponse(401, ''))),
      /IMDS PUT \/latest\/api\/token answered HTTP 401$/,
    ],
  ];
  for (const [breakIt, expected] of cases) {
    breakIt();
    await assert.rejects(job.run(context), (error: Error) => expected.test(error.message));
  }
});

test('one IMDS token for the watch: renewed before it expires, and once more when IMDS rejects it', async () => {
  const { host, script, job, context } = await watch();
  const seen: string[] = [];
  script.action = (request) => (seen.push(request.headers?.['X-aws-ec2-metadata-token'] ?? ''), textResponse(404, ''));
  for (let run = 0; run < 50; run++) {
    await job.run(context);
    host.clock = new Date(host.clock.getTime() + 5000);
  }
  // 250 s of runs: the first token (300 s) is renewed 30 s before it expires, i.e. not yet.
  assert.equal(script.tokens, 1);
  host.clock = new Date(host.clock.getTime() + 30_000);
  await job.run(context);
  assert.equal(script.tokens, 2, 'renewed before it expired');
  let rejectOnce = true;
  script.action = (request) => {
    seen.push(request.headers?.['X-aws-ec2-metadata-token'] ?? '');
    if (rejectOnce) return ((rejectOnce = false), textResponse(401, ''));
    return textResponse(404, '');
  };
  assert.equal(
    (await job.run(context)).summary,
    'no spot interruption announced',
    'IMDS restarted: a new token, no failure',
  );
  assert.deepEqual(seen.slice(-2), ['token-2', 'token-3']);
});

test('the log: the steady state once, an outage once (then a reminder every 6 h), the recovery once', async () => {
  const { host, script, job, context } = await watch();
  const lines: string[] = [];
  const record = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  const logger: Logger = { error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
  const log = createTaskLog(logger);
  let failures = 0;
  const tick = async () => {
    const startedAt = host.now().toISOString();
    const next = new Date(host.now().getTime() + 5000).toISOString();
    const base = { name: 'spot-interruption', startedAt, durationMs: 2, nextRunAt: next };
    const result: TaskRecord = await job.run(context).then(
      (outcome) => ((failures = 0), { ...base, ...outcome, result: 'ok' as const, consecutiveFailures: 0 }),
      (error: Error) => ({
        ...base,
        result: 'failed' as const,
        summary: error.message,
        consecutiveFailures: ++failures,
      }),
    );
    log(result, host.now().getTime());
    host.clock = new Date(host.clock.getTime() + 5000);
  };
  for (let i = 0; i < 100; i++) await tick();
  script.action = () => textResponse(500, '');
  for (let i = 0; i < REMINDER_MS / 5000 + 10; i++) await tick();
  script.action = () => textResponse(404, '');
  for (let i = 0; i < 100; i++) await tick();
  const shown = lines.filter((line) => !line.startsWith('debug'));
  assert.equal(shown.length, 4, shown.join('\n'));
  assert.equal(shown[0], 'info: spot-interruption: no spot interruption announced');
  assert.match(
    shown[1] ?? '',
    /^error: spot-interruption failed \(attempt 1\): cannot tell .*: IMDS GET \S+ .*HTTP 500; next attempt in 5 s/,
  );
  assert.match(
    shown[2] ?? '',
    /^warn: spot-interruption still failing since 2026-11-22T12:08:20\.000Z \(4321 attempts\): cannot tell/,
  );
  assert.match(
    shown[3] ?? '',
    /^info: spot-interruption: no spot interruption announced \(recovered; failing since 2026-11-22T12:08:20\.000Z\)$/,
  );
});

test('the daemon builds the watch once, and retries it at its own pace (no backoff)', async () => {
  const spot = JOBS.filter((job) => job.name === 'spot-interruption');
  assert.equal(spot.length, 1);
  const context = await contextFor(fakeHostFor('debian-12'));
  const [task] = daemonTasks(
    async () => context,
    { ...context, config: { ...context.config, CONVERGE_INTERVAL: null } },
    spot,
  );
  assert.deepEqual(
    [task?.name, task?.intervalMs, task?.retry],
    ['spot-interruption', 5000, { firstMs: 5000, maxMs: 5000 }],
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  defaultRetry,
  MAX_BACKOFF_MS,
  nextOnGrid,
  retryDelayMs,
  startScheduler,
  type SchedulerClock,
  type Task,
  type TaskRecord,
} from '../../../src/daemon/scheduler.ts';
import { ManualClock, until } from '../metrics/manual-clock.ts';

const MINUTE = 60_000;

function task(name: string, run: Task['run'], options: Partial<Task> = {}): Task {
  return { name, intervalMs: MINUTE, exclusive: false, retry: defaultRetry(MINUTE), run, ...options };
}

/** The scheduler on a clock the test moves, with a fixed "random" value; stop() aborts and waits for it. */
function schedule(tasks: Task[], clock: SchedulerClock = new ManualClock(), random = 0) {
  const controller = new AbortController();
  const records: TaskRecord[] = [];
  const started: string[] = [];
  const schedule = startScheduler(tasks, {
    clock,
    random: () => random,
    signal: controller.signal,
    started: (name) => void started.push(name),
    finished: (record) => void records.push(record),
  });
  const done = schedule.done;
  return { records, started, stop: async () => (controller.abort(), await done), controller, done, schedule };
}

/** Seconds after the clock's start at which each record of the task started. */
function startTimes(records: readonly TaskRecord[], name: string, origin: number): number[] {
  return records.filter((r) => r.name === name).map((r) => (Date.parse(r.startedAt) - origin) / 1000);
}

test('retries: the converge from 30 s doubling to its interval, ±20 %; jobs from twice the interval, ≤ 1 h', () => {
  const converge = { firstMs: 30_000, maxMs: 30 * MINUTE };
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 7, 20].map((n) => retryDelayMs(converge, n, () => 0.5)),
    [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000, 1_800_000],
  );
  assert.equal(
    retryDelayMs(converge, 1, () => 0),
    24_000,
  );
  assert.equal(
    retryDelayMs(converge, 1, () => 0.999_999),
    36_000,
  );
  assert.deepEqual(defaultRetry(MINUTE), { firstMs: 2 * MINUTE, maxMs: MAX_BACKOFF_MS });
  assert.deepEqual(defaultRetry(2 * MAX_BACKOFF_MS), { firstMs: 4 * MAX_BACKOFF_MS, maxMs: 2 * MAX_BACKOFF_MS });
});

test('the grid: the first point after now, never the origin itself', () => {
  assert.equal(nextOnGrid(1000, 100, 0), 1100);
  assert.equal(nextOnGrid(1000, 100, 1000), 1100);
  assert.equal(nextOnGrid(1000, 100, 1099), 1100);
  assert.equal(nextOnGrid(1000, 100, 1100), 1200);
  assert.equal(nextOnGrid(1000, 100, 1450), 1500);
});

test('a task runs at start, then at its random offset within the interval, then every interval', async () => {
  for (const [random, expected] of [
    [0, [0, 60, 120, 180, 240]],
    [0.25, [0, 75, 135, 195]],
    [0.9, [0, 114, 174, 234]],
  ] as const) {
    const clock = new ManualClock();
    const origin = clock.now();
    const run = schedule([task('users-sync', async () => ({ summary: 'in sync' }))], clock, random);
    await until(() => run.records.length === 1, 'the run at start');
    for (let second = 1; second <= 240; second++) {
      clock.advance(1000);
      await until(() => clock.waiting === 1, 'the task to wait again');
    }
    assert.deepEqual(startTimes(run.records, 'users-sync', origin), expected, `random ${random}`);
    assert.equal(
      run.records[0]?.nextRunAt,
      new Date(origin + expected[1] * 1000).toISOString(),
      'status says when it runs next',
    );
    await run.stop();
  }
});

test('a failed run is retried by its policy until one succeeds, then the task is back on its grid', async () => {
  const clock = new ManualClock();
  const origin = clock.now();
  let calls = 0;
  const flaky = task(
    'converge',
    async () => {
      if (++calls <= 3) throw new Error(`mirror not reachable (${calls})`);
      return { summary: 'up to date' };
    },
    { intervalMs: 30 * MINUTE, retry: { firstMs: 30_000, maxMs: 30 * MINUTE } },
  );
  const run = schedule([flaky], clock, 0.5);
  for (let second = 0; second < 3 * 3600; second += 5) {
    await until(() => clock.waiting === 1, 'the task to wait');
    clock.advance(5000);
  }
  await until(() => clock.waiting === 1, 'the task to wait');
  // random 0.5: no jitter; the offset of the grid is half an interval (15 min).
  assert.deepEqual(startTimes(run.records, 'converge', origin), [0, 30, 90, 210, 2700, 4500, 6300, 8100, 9900]);
  assert.deepEqual(
    run.records.slice(0, 4).map((r) => [r.result, r.consecutiveFailures]),
    [
      ['failed', 1],
      ['failed', 2],
      ['failed', 3],
      ['ok', 0],
    ],
  );
  assert.equal(run.records[0]?.summary, 'mirror not reachable (1)');
  assert.equal(run.records[0]?.nextRunAt, new Date(origin + 30_000).toISOString());
  await run.stop();
});

test('setting the wall clock back an hour neither delays the next run nor hides when it is', async () => {
  const manual = new ManualClock();
  let skew = 0;
  const clock: SchedulerClock = {
    now: () => manual.now() + skew,
    monotonic: () => manual.monotonic(),
    sleep: (ms, signal) => manual.sleep(ms, signal),
  };
  const run = schedule([task('metrics', async () => ({ summary: 'sampled' }))], clock, 0);
  await until(() => run.records.length === 1, 'the run at start');
  skew = -3600_000;
  manual.advance(MINUTE);
  await until(() => run.records.length === 2, 'the run one interval later');
  assert.equal(
    run.records[1]?.startedAt,
    new Date(manual.now() - 3600_000).toISOString(),
    'the record is in wall-clock time',
  );
  assert.equal(run.records[1]?.nextRunAt, new Date(manual.now() - 3600_000 + MINUTE).toISOString());
  await run.stop();
});

test('a failing task never stops the others, and its failures are counted', async () => {
  const clock = new ManualClock();
  const run = schedule(
    [task('broken', async () => Promise.reject(new Error('boom'))), task('fine', async () => ({ summary: 'ok' }))],
    clock,
  );
  for (let i = 0; i < 5; i++) {
    await until(() => clock.waiting === 2, 'both tasks to wait');
    clock.advance(MINUTE);
  }
  await until(() => clock.waiting === 2, 'both tasks to wait');
  const broken = run.records.filter((r) => r.name === 'broken');
  assert.equal(broken[0]?.result, 'failed');
  assert.equal(broken[0]?.summary, 'boom');
  assert.deepEqual(
    broken.map((r) => r.consecutiveFailures),
    [1, 2],
  );
  assert.deepEqual(
    run.records.filter((r) => r.name === 'fine').map((r) => r.result),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
  );
  await run.stop();
});

test('exclusive tasks take turns; a read-only task runs beside them', async () => {
  const gates: Array<() => void> = [];
  const exclusive = (name: string) =>
    task(name, () => new Promise((resolve) => gates.push(() => resolve({ summary: name }))), { exclusive: true });
  let sampled = 0;
  const run = schedule([
    exclusive('converge'),
    exclusive('users-sync'),
    task('metrics', async () => ({ summary: `${++sampled}` })),
  ]);
  await until(() => gates.length === 1 && sampled === 1, 'the converge to run and metrics to sample');
  assert.deepEqual([...run.started].sort(), ['converge', 'metrics'], 'users-sync waits for its turn');
  gates[0]?.();
  await until(() => gates.length === 2, 'users-sync to get its turn');
  assert.equal(run.started.at(-1), 'users-sync');
  gates[1]?.();
  await run.stop();
});

test('abort ends every loop, also one waiting for a long interval or for its turn', async () => {
  let release = () => {};
  const blocking = task('converge', () => new Promise((resolve) => (release = () => resolve({ summary: 'done' }))), {
    exclusive: true,
  });
  const waiting = task('updates', async () => ({ summary: 'never' }), { exclusive: true });
  const run = schedule([
    blocking,
    waiting,
    task('metrics', async () => ({ summary: 'sampled' }), { intervalMs: 3_600_000 }),
  ]);
  await until(() => run.started.includes('converge') && run.started.includes('metrics'), 'the first runs');
  run.controller.abort();
  release();
  await run.done;
  assert.deepEqual(run.started.sort(), ['converge', 'metrics'], 'updates did not start after the stop');
});

test('a run that fails because the stop cut it short is recorded as stopped, not as a failure', async () => {
  const run = schedule([
    task(
      'converge',
      async (signal) => {
        run.controller.abort();
        assert.equal(signal.aborted, true, 'the task sees the stop');
        throw new Error('not started, the agent is stopping: install Docker');
      },
      { exclusive: true },
    ),
  ]);
  await run.done;
  assert.deepEqual(
    run.records.map((r) => [r.result, r.consecutiveFailures]),
    [['stopped', 0]],
  );
});

/** Moves the clock a second at a time up to `seconds` after its start, each time until `waiting` tasks wait again. */
async function advanceTo(clock: ManualClock, origin: number, seconds: number, waiting: number): Promise<void> {
  while (clock.now() < origin + seconds * 1000) {
    clock.advance(1000);
    await until(() => clock.waiting === waiting, `${waiting} tasks to wait again`);
  }
}

test('reload: a new interval gives a new grid (next run within it); a task turned on runs at once', async () => {
  const clock = new ManualClock();
  const origin = clock.now();
  const removed: string[] = [];
  const rescheduled: string[] = [];
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  const sampled = (name: string) => task(name, async () => ({ summary: 'ran' }));
  const schedule = startScheduler([sampled('metrics'), sampled('events'), sampled('users-sync')], {
    clock,
    random: () => 0.25,
    signal: stop.signal,
    finished: (record) => void records.push(record),
    rescheduled: (name, at) => void rescheduled.push(`${name} ${(Date.parse(at) - origin) / 1000}`),
    removed: (name) => void removed.push(name),
  });
  await until(() => records.length === 3 && clock.waiting === 3, 'the runs at start');
  await advanceTo(clock, origin, 30, 3);
  const changes = schedule.replace([
    sampled('metrics'),
    task('events', async () => ({ summary: 'ran' }), { intervalMs: 20_000 }),
    sampled('updates'),
  ]);
  assert.deepEqual(changes, [
    { name: 'users-sync', fromMs: MINUTE, toMs: null },
    { name: 'events', fromMs: MINUTE, toMs: 20_000 },
    { name: 'updates', fromMs: null, toMs: MINUTE },
  ]);
  await until(() => removed.length === 1 && records.length === 4, 'users-sync to end and updates to run at once');
  assert.deepEqual(removed, ['users-sync']);
  assert.deepEqual(rescheduled, ['events 35'], 'status learns the new next run');
  await advanceTo(clock, origin, 200, 3);
  // random 0.25: metrics keeps its grid (offset 15 s); events' new grid puts its next run 5 s (0.25 × 20 s) after
  // the reload, then every 20 s; updates runs at the reload, then on its own grid (offset 15 s).
  assert.deepEqual(startTimes(records, 'metrics', origin), [0, 75, 135, 195]);
  assert.deepEqual(startTimes(records, 'events', origin), [0, 35, 55, 75, 95, 115, 135, 155, 175, 195]);
  assert.deepEqual(startTimes(records, 'updates', origin), [30, 105, 165]);
  assert.deepEqual(startTimes(records, 'users-sync', origin), [0]);
  stop.abort();
  await schedule.done;
});

test('a reload of a failing task keeps its failures: the next retry by the new policy, from its last run', async () => {
  const clock = new ManualClock();
  const origin = clock.now();
  const records: TaskRecord[] = [];
  const stop = new AbortController();
  const failing = (intervalMs: number) =>
    task('users-sync', async () => Promise.reject(new Error('source unreachable')), {
      intervalMs,
      retry: defaultRetry(intervalMs),
    });
  const schedule = startScheduler([failing(MINUTE)], {
    clock,
    random: () => 0.5,
    signal: stop.signal,
    finished: (record) => void records.push(record),
  });
  await until(() => records.length === 1 && clock.waiting === 1, 'the run at start');
  await advanceTo(clock, origin, 200, 1);
  assert.deepEqual(startTimes(records, 'users-sync', origin), [0, 120], 'retried after 2 min, next after 4 min');
  const changes = schedule.replace([failing(10 * MINUTE)]);
  assert.deepEqual(changes, [{ name: 'users-sync', fromMs: MINUTE, toMs: 10 * MINUTE }]);
  await advanceTo(clock, origin, 2600, 1);
  // Two failures: 2 × 2 × 10 min = 40 min after the last run (at 120 s), within the hour the policy allows.
  assert.deepEqual(startTimes(records, 'users-sync', origin), [0, 120, 2520]);
  assert.deepEqual(
    records.map((r) => r.consecutiveFailures),
    [1, 2, 3],
  );
  stop.abort();
  await schedule.done;
});

test('a reload during a run: the run finishes and is recorded; left out, the task stops; back, it runs', async () => {
  const clock = new ManualClock();
  const origin = clock.now();
  const records: TaskRecord[] = [];
  const removed: string[] = [];
  const stop = new AbortController();
  const gates: Array<() => void> = [];
  const slow = (intervalMs: number) =>
    task('updates', () => new Promise((resolve) => gates.push(() => resolve({ summary: 'checked' }))), {
      intervalMs,
      exclusive: true,
    });
  const schedule = startScheduler([slow(MINUTE)], {
    clock,
    random: () => 0.5,
    signal: stop.signal,
    finished: (record) => void records.push(record),
    removed: (name) => void removed.push(name),
  });
  await until(() => gates.length === 1, 'the first run');
  assert.deepEqual(schedule.replace([slow(2 * MINUTE)]), [{ name: 'updates', fromMs: MINUTE, toMs: 2 * MINUTE }]);
  gates[0]?.();
  await until(() => records.length === 1 && clock.waiting === 1, 'the first run to be recorded');
  assert.equal(records[0]?.nextRunAt, new Date(origin + MINUTE).toISOString(), 'the new grid: 0.5 × 2 min');

  clock.advance(MINUTE);
  await until(() => gates.length === 2, 'the second run');
  assert.deepEqual(schedule.replace([]), [{ name: 'updates', fromMs: 2 * MINUTE, toMs: null }]);
  assert.deepEqual(removed, [], 'not while it runs');
  gates[1]?.();
  await until(() => removed.length === 1, 'the task to end after its run');
  assert.equal(records.length, 2, 'the run in progress was recorded');
  assert.equal(clock.waiting, 0, 'nothing waits');

  assert.deepEqual(schedule.replace([slow(MINUTE)]), [{ name: 'updates', fromMs: null, toMs: MINUTE }]);
  await until(() => gates.length === 3, 'turned on again, it runs at once');
  gates[2]?.();
  stop.abort();
  await schedule.done;
  assert.deepEqual(startTimes(records, 'updates', origin), [0, 60, 60]);
});

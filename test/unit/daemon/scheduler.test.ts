import assert from 'node:assert/strict';
import { test } from 'node:test';

import { systemClock } from '../../../src/daemon/clock.ts';
import { backoffMs, MAX_BACKOFF_MS, runScheduler, type Task, type TaskRecord } from '../../../src/daemon/scheduler.ts';

function task(name: string, run: Task['run'], exclusive = false): Task {
  return { name, intervalMs: 5, exclusive, runAtStart: true, run };
}

/** Runs the scheduler until `done` says enough records arrived. */
async function collect(tasks: Task[], done: (records: TaskRecord[]) => boolean): Promise<TaskRecord[]> {
  const stop = new AbortController();
  const records: TaskRecord[] = [];
  await runScheduler(tasks, systemClock, stop.signal, (record) => {
    records.push(record);
    if (done(records)) stop.abort();
  });
  return records;
}

test('backoff doubles per consecutive failure and is capped at an hour (or the interval, if longer)', () => {
  assert.equal(backoffMs(60_000, 0), 60_000);
  assert.equal(backoffMs(60_000, 1), 120_000);
  assert.equal(backoffMs(60_000, 3), 480_000);
  assert.equal(backoffMs(60_000, 30), MAX_BACKOFF_MS);
  assert.equal(backoffMs(2 * MAX_BACKOFF_MS, 1), 2 * MAX_BACKOFF_MS);
});

test('a failing task never stops the others, and its failures are counted', async () => {
  const records = await collect(
    [task('broken', async () => Promise.reject(new Error('boom'))), task('fine', async () => ({ summary: 'ok' }))],
    (all) => all.filter((r) => r.name === 'fine').length >= 3 && all.some((r) => r.name === 'broken'),
  );
  const broken = records.filter((r) => r.name === 'broken');
  assert.equal(broken[0]?.result, 'failed');
  assert.equal(broken[0]?.summary, 'boom');
  assert.equal(broken[0]?.consecutiveFailures, 1);
  assert.ok(records.filter((r) => r.name === 'fine').every((r) => r.result === 'ok'));
});

test('exclusive tasks never overlap; a read-only task runs beside them', async () => {
  let inside = 0;
  let overlapped = false;
  let readOnlyDuringExclusive = false;
  const exclusive = (name: string) =>
    task(name, async () => {
      inside++;
      overlapped ||= inside > 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
      inside--;
      return { summary: name };
    }, true);
  const readOnly = task('metrics', async () => {
    readOnlyDuringExclusive ||= inside > 0;
    return { summary: 'sampled' };
  });
  await collect([exclusive('converge'), exclusive('users'), readOnly], (all) => all.filter((r) => r.name !== 'metrics').length >= 6);
  assert.equal(overlapped, false);
  assert.equal(readOnlyDuringExclusive, true);
});

test('abort ends every loop, also one waiting for a long interval', async () => {
  const stop = new AbortController();
  const slow: Task = { name: 'slow', intervalMs: 3_600_000, exclusive: false, runAtStart: false, run: async () => ({ summary: 'never' }) };
  setTimeout(() => stop.abort(), 10);
  const records: TaskRecord[] = [];
  await runScheduler([slow], systemClock, stop.signal, (record) => void records.push(record));
  assert.deepEqual(records, []);
});

test('the task sees the abort signal, to finish or abandon its step', async () => {
  let sawAbort = false;
  const stop = new AbortController();
  const longStep = task('updates', async (signal) => {
    stop.abort();
    sawAbort = signal.aborted;
    return { summary: 'abandoned safely' };
  }, true);
  await runScheduler([longStep], systemClock, stop.signal, () => {});
  assert.equal(sawAbort, true);
});

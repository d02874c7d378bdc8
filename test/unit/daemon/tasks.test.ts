import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Job } from '../../../src/daemon/job.ts';
import { daemonTasks } from '../../../src/daemon/tasks.ts';
import { fakeHostFor } from '../../support/fixtures.ts';
import { concernContext } from '../../support/concern-context.ts';

async function context(env: Record<string, string>): Promise<ConcernContext> {
  const host = fakeHostFor('debian-12');
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return await concernContext(host, config);
}

function job(name: string, intervalMs: number | null): Job {
  return { name, intervalMs: () => intervalMs, run: async () => ({ summary: `${name} ran` }) };
}

test('converge first, retried from 30 s; unconfigured jobs left out; read-only jobs beside the others', async () => {
  const first = await context({ CONVERGE_INTERVAL: '10m' });
  const spot: Job = {
    ...job('spot-interruption', 5000),
    retry: (interval) => ({ firstMs: interval, maxMs: interval }),
  };
  const tasks = daemonTasks(async () => first, first, [
    job('metrics', 60_000),
    job('users', null),
    job('updates', 3_600_000),
    spot,
  ]);
  assert.deepEqual(
    tasks.map((t) => [t.name, t.intervalMs, t.exclusive, t.retry]),
    [
      ['converge', 600_000, true, { firstMs: 30_000, maxMs: 600_000 }],
      ['metrics', 60_000, false, { firstMs: 120_000, maxMs: 3_600_000 }],
      ['updates', 3_600_000, true, { firstMs: 7_200_000, maxMs: 3_600_000 }],
      ['spot-interruption', 5000, false, { firstMs: 5000, maxMs: 5000 }],
    ],
  );
});

test('CONVERGE_INTERVAL=off leaves only the jobs', async () => {
  const first = await context({ CONVERGE_INTERVAL: 'off' });
  assert.deepEqual(
    daemonTasks(async () => first, first, [job('metrics', 60_000)]).map((t) => t.name),
    ['metrics'],
  );
});

test('a job runs with the latest context and the stop signal', async () => {
  const first = await context({});
  const latest = await context({ ECS_CLUSTER: 'reloaded' });
  let seen: string | undefined;
  const probe: Job = {
    name: 'users',
    intervalMs: () => 1000,
    run: async (c) => ({ summary: (seen = c.config.ECS_CLUSTER) }),
  };
  const [task] = daemonTasks(async () => latest, first, [probe]).filter((t) => t.name === 'users');
  assert.equal((await task?.run(new AbortController().signal))?.summary, 'reloaded');
  assert.equal(seen, 'reloaded');
});

test('a converge whose concerns fail rejects with each failing concern named', async () => {
  const first = await context({});
  const [converge] = daemonTasks(async () => first, first, []);
  // The fake host answers no package-manager or systemctl command, so every concern that needs one fails.
  await assert.rejects(
    converge?.run(new AbortController().signal) ?? Promise.resolve(),
    /docker: .*FakeHost: no handler/,
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import type { Job } from '../../../src/daemon/job.ts';
import { JOBS, usersSyncJob } from '../../../src/daemon/jobs.ts';
import { lazyJob } from '../../../src/daemon/lazy-job.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

async function context(env: Record<string, string>): Promise<ConcernContext> {
  const host = fakeHostFor('debian-12');
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return { host, config, os: await gatherOsFacts(host), logger: silentLogger, resetAgentState: false };
}

test('a lazy job loads its implementation at its first run only, and runs it with the context it was given', async () => {
  const loads: string[] = [];
  const seen: unknown[] = [];
  const real: Job = { name: 'real', intervalMs: () => 1, run: async (ctx) => (seen.push(ctx), { summary: 'ran', details: 42 }) };
  const job = lazyJob('lazy', () => 5000, async () => (loads.push('loaded'), real));
  const ctx = { ...(await context({})), signal: new AbortController().signal };
  assert.equal(job.intervalMs(ctx), 5000);
  assert.deepEqual(loads, [], 'nothing loaded to schedule it');
  assert.deepEqual(await job.run(ctx), { summary: 'ran', details: 42 });
  assert.deepEqual(seen, [ctx]);
});

test("the daemon's users job is scheduled exactly as the users job it loads says, with and without USERS_SOURCE", async () => {
  const { usersSyncJob: loaded } = await import('../../../src/concerns/users/job.ts');
  assert.ok(JOBS.includes(usersSyncJob));
  const envs: Record<string, string>[] = [{}, { USERS_SOURCE: 'file:/etc/users.json' }, { USERS_SOURCE: 'ssm:/users', USERS_SYNC_INTERVAL: '2m' }];
  for (const env of envs) {
    const ctx = await context(env);
    assert.equal(usersSyncJob.intervalMs(ctx), loaded.intervalMs(ctx), JSON.stringify(env));
    assert.equal(usersSyncJob.name, loaded.name);
  }
});

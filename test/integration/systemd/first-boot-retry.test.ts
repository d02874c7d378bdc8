/**
 * First boot with the package mirror not reachable yet: the installed agent's first converge fails, and the
 * next attempt comes within a minute (a backoff from 30 s), not after CONVERGE_INTERVAL (30 minutes here).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { test } from 'node:test';

import { agentEnv, bootWithAgent, buildAgentDeb, STATUS_FILE, waitFor } from '../../support/agent-container.ts';

interface ConvergeRecord {
  readonly result: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly consecutiveFailures: number;
  readonly nextRunAt: string;
}

const RETRY_BOUND_MS = 60_000;

test('a converge that fails at first boot is tried again within a minute', async (t) => {
  const deb = await buildAgentDeb(t);
  const container = await bootWithAgent(t, deb, {
    agentEnv: agentEnv(),
    // No package source and no package lists: apt fails at once, as with a mirror that is not there yet.
    prepare: (root) => {
      rmSync(`${root}/etc/apt/sources.list`, { force: true });
      rmSync(`${root}/var/lib/apt/lists`, { recursive: true, force: true });
    },
  });
  const converge = () => {
    try {
      return (JSON.parse(readFileSync(`${container.root}${STATUS_FILE}`, 'utf8')).tasks?.converge ?? undefined) as
        ConvergeRecord | undefined;
    } catch {
      return undefined;
    }
  };
  const first = await waitFor('the first converge to fail', 120_000, () => {
    const record = converge();
    return record && record.consecutiveFailures >= 1 ? record : undefined;
  });
  assert.equal(first.result, 'failed');
  assert.equal(first.consecutiveFailures, 1, 'this is the first attempt');
  const failedAt = Date.parse(first.startedAt) + first.durationMs;
  assert.ok(
    Date.parse(first.nextRunAt) - failedAt <= RETRY_BOUND_MS,
    `next attempt announced for ${first.nextRunAt}, failed at ${new Date(failedAt).toISOString()}`,
  );

  const second = await waitFor('the second converge attempt', 120_000, () => {
    const record = converge();
    return record && record.startedAt !== first.startedAt ? record : undefined;
  });
  const retriedAfterMs = Date.parse(second.startedAt) - failedAt;
  assert.ok(retriedAfterMs <= RETRY_BOUND_MS, `retried ${retriedAfterMs} ms after the failure`);
  assert.equal(second.consecutiveFailures, 2, 'the mirror is still not there: a second failure, counted');
});

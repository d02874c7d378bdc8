import { join } from 'node:path';
import type { TestContext } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { MetricsRunner } from '../../../src/jobs/metrics.ts';
import { ClockedHost } from '../../support/clocked-host.ts';
import { MOTO_REGION } from '../../support/moto.ts';
import { FACTS, recordingLogger } from '../../unit/control/fixtures.ts';
import { ManualClock } from '../../unit/metrics/manual-clock.ts';

/**
 * The configuration of an agent under test, as environment variables: IMDS a loopback stand-in, the ECS agent and
 * Docker dead addresses, the spool in the test's directory, no identity document; the sinks come in `extra`.
 */
export function agentEnv(dir: string, imdsUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    ECS_CLUSTER: 'prod',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imdsUrl,
    SPOOL_DIR: join(dir, 'spool'),
    INTROSPECTION_URL: 'http://127.0.0.1:9',
    METRICS_DOCKER_SOCKET: join(dir, 'no-docker.sock'),
    CONTROL_IDENTITY: 'no',
    ...extra,
  };
}

/** What a process of its own needs besides: a PATH, and moto's fake credentials so the SDK asks nothing else. */
export function processEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: MOTO_REGION,
  };
}

const FAST = { baseMs: 1, maxMs: 1, probeMs: 1 };

/** A metrics runner on that configuration, its sample times and delivery backoffs on a clock the test moves. */
export async function metricsAgent(t: TestContext, env: Record<string, string>) {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  const logger = recordingLogger();
  // A minute behind this machine's clock, so that moving it forward never reaches the future.
  const clock = new ManualClock(Date.now() - 60_000);
  const options = { hostFacts: FACTS, backoff: FAST, clock };
  const runner = await MetricsRunner.create(new ClockedHost(clock), config, logger, options);
  t.after(() => runner.close());
  return { runner, logger, clock };
}

import { join } from 'node:path';
import type { TestContext } from 'node:test';

import { ControlClient } from '../../../src/control/client.ts';
import { type Backoff, Delivery } from '../../../src/control/delivery.ts';
import type { SpoolStatus } from '../../../src/control/protocol.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import { controlSink } from '../../../src/control/sinks/control.ts';
import { SharedSpool } from '../../../src/control/spool-cursors.ts';
import { Spool } from '../../../src/control/spool.ts';
import { type Config, loadConfig } from '../../../src/core/config/load.ts';
import type { Clock } from '../../../src/daemon/scheduler.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { MetricsRunner } from '../../../src/jobs/metrics.ts';
import type { Sample } from '../../../src/metrics/sample.ts';
import { FACTS, recordingLogger, status } from '../../unit/control/fixtures.ts';
import { ManualClock } from '../../unit/metrics/manual-clock.ts';

/**
 * The agent's side of a delivery test: the real metrics runner (this machine's samples), or the real parts of
 * delivery (client, spool on disk, Delivery) without the sampler, so a test chooses the samples. IMDS is off,
 * the ECS agent and Docker are dead loopback addresses: nothing leaves loopback.
 */
const FAST: Backoff = { baseMs: 1, maxMs: 1, probeMs: 1 };

export function agentConfig(dir: string, url: string, extra: Record<string, string> = {}): Config {
  const env = {
    CONTROL_URL: url,
    CONTROL_IDENTITY: 'no',
    SPOOL_DIR: join(dir, 'spool'),
    INTROSPECTION_URL: 'http://127.0.0.1:9',
    METRICS_DOCKER_SOCKET: join(dir, 'no-docker.sock'),
    ...extra,
  };
  return loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
}

/** The real metrics runner; its deliveries judge their backoff by `clock`, which only the test moves. */
export async function metricsRunner(t: TestContext, dir: string, url: string, extra: Record<string, string> = {}) {
  const logger = recordingLogger();
  const clock = new ManualClock();
  const options = { hostFacts: FACTS, backoff: FAST, clock };
  const created = await MetricsRunner.create(new RealHost('/'), agentConfig(dir, url, extra), logger, options);
  t.after(() => created.close());
  return { runner: created, logger, clock };
}
export interface AgentSideOptions {
  readonly spoolMaxBytes?: number;
  readonly backoff?: Backoff;
  readonly clock?: Clock;
}

export function agentSide(dir: string, url: string, options: AgentSideOptions = {}) {
  const host = new RealHost('/');
  const logger = recordingLogger();
  const client = new ControlClient(host, controlSettings(agentConfig(dir, url))!, logger);
  const settings = { dir: join(dir, 'spool'), maxBytes: options.spoolMaxBytes ?? 2 ** 30, maxAgeMs: 86_400_000 };
  const cursors = { dir: settings.dir, sinks: ['control'], forgetOthers: true };
  const shared = new SharedSpool(host, new Spool(host, settings, logger), cursors, logger);
  const withSpool = async (spoolStatus: SpoolStatus) => ({ ...status(), spool: spoolStatus });
  const sink = controlSink(host, { client, hostId: 'test-host', status: withSpool });
  const delivery = new Delivery({
    sink,
    spool: shared.reader('control'),
    logger,
    backoff: options.backoff ?? FAST,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  /** What the metrics job does with a sample: into the spool, for the delivery's next round. */
  const accept = (sample: Sample) => shared.append(sample);
  return { host, logger, delivery, accept };
}

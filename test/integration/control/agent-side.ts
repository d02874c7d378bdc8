import { join } from 'node:path';

import { ControlClient } from '../../../src/control/client.ts';
import { type Backoff, Delivery } from '../../../src/control/delivery.ts';
import { controlSettings } from '../../../src/control/settings.ts';
import { Spool } from '../../../src/control/spool.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import type { Clock } from '../../../src/daemon/scheduler.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { recordingLogger, status } from '../../unit/control/fixtures.ts';

/**
 * The agent's side of a delivery test, built from the real parts (client, spool on disk, Delivery) without the
 * sampler, so a test chooses the samples; IMDS is off, nothing leaves loopback.
 */
export interface AgentSideOptions {
  readonly spoolMaxBytes?: number;
  readonly backoff?: Backoff;
  readonly clock?: Clock;
}

export function agentSide(dir: string, url: string, options: AgentSideOptions = {}) {
  const host = new RealHost('/');
  const logger = recordingLogger();
  const config = loadConfig({ file: 'agent.env', fileText: null, env: { CONTROL_URL: url, CONTROL_IDENTITY: 'no' }, flags: {} });
  const client = new ControlClient(host, controlSettings(config)!, logger);
  const spool = new Spool(host, { dir: join(dir, 'spool'), maxBytes: options.spoolMaxBytes ?? 2 ** 30, maxAgeMs: 86_400_000 }, logger);
  const delivery = new Delivery(host, {
    client,
    spool,
    logger,
    hostId: 'test-host',
    status: async (spoolStatus) => ({ ...status(), spool: spoolStatus }),
    backoff: options.backoff ?? { baseMs: 1, maxMs: 1, probeMs: 1 },
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { host, logger, spool, delivery };
}

/** A Clock that moves only when the test advances it: waits end when their time is passed (or on abort). */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: Array<{ readonly at: number; readonly resolve: () => void }> = [];

  constructor(start = Date.UTC(2026, 10, 22, 12, 0, 0)) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const sleeper = { at: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }

  advance(ms: number): void {
    this.#now += ms;
    const due = this.#sleepers.filter((sleeper) => sleeper.at <= this.#now);
    this.#sleepers = this.#sleepers.filter((sleeper) => sleeper.at > this.#now);
    for (const sleeper of due) sleeper.resolve();
  }
}

/** Polls (without timing assertions) until the condition holds; fails naming it after a generous bound. */
export async function until(condition: () => boolean, what: string, boundMs = 30_000): Promise<void> {
  const deadline = Date.now() + boundMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting (${boundMs} ms) for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

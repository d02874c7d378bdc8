import { hostname } from 'node:os';

import { ControlClient } from '../control/client.ts';
import { type Backoff, Delivery, describeDelivery } from '../control/delivery.ts';
import { DeliveryLoop } from '../control/delivery-loop.ts';
import { FileSink } from '../control/file-sink.ts';
import { controlSettings } from '../control/settings.ts';
import { Spool } from '../control/spool.ts';
import type { Config } from '../core/config/load.ts';
import type { Logger } from '../core/logger.ts';
import { systemClock } from '../daemon/clock.ts';
import type { Job, JobResult } from '../daemon/job.ts';
import type { Clock } from '../daemon/scheduler.ts';
import type { Host, HttpServer } from '../host/host.ts';
import { cachedHostFacts, type HostFactsReader, hostFactsReader } from './host-facts.ts';
import { servePrometheus } from './prometheus-endpoint.ts';
import type { Sample } from './sample.ts';
import { Sampler, samplerSettings } from './sampler.ts';
import { readHostId, StatusReporter, type StatusSources } from './status.ts';

/**
 * The metrics job: every METRICS_INTERVAL, one sample, handed to the control
 * endpoint's delivery (spooled first) or, without CONTROL_URL, appended to the
 * local sink; the Prometheus endpoint serves the latest one. In the daemon the
 * delivery runs in its own loop (DeliveryLoop), so a hung or refusing endpoint
 * never delays the next sample; a one-shot command delivers before it returns.
 */
export interface MetricsOptions {
  readonly statusSources?: StatusSources;
  readonly hostFacts?: HostFactsReader;
  readonly backoff?: Backoff;
  /** The daemon's delivery loop waits on it (tests inject one they advance by hand). */
  readonly clock?: Clock;
}

export interface StepResult {
  readonly sample: Sample;
  /** Where the sample went: "control", "spool" or the sink's path. */
  readonly destination: string;
  readonly summary: string;
  readonly details: unknown;
}

type Report = Omit<StepResult, 'sample'>;

/** Where samples go: the sink file, or the control endpoint's delivery. */
interface Outlet {
  /** Takes the sample durably (the spool, or the sink file). */
  accept(sample: Sample): Promise<void>;
  /** Tries to deliver what waits, once, and says what happened (a one-shot command). */
  flush(signal?: AbortSignal): Promise<Report>;
  /** Has the background loop deliver what waits (the daemon), and says where delivery stands without waiting. */
  handOff(): Report;
  stop(): Promise<void>;
}

export class MetricsRunner {
  readonly #sampler: Sampler;
  readonly #reporter: StatusReporter;
  readonly #outlet: Outlet;
  readonly #client: ControlClient | null;
  #prometheus: HttpServer | null = null;

  private constructor(sampler: Sampler, reporter: StatusReporter, client: ControlClient | null, outlet: Outlet) {
    this.#sampler = sampler;
    this.#reporter = reporter;
    this.#client = client;
    this.#outlet = outlet;
  }

  /** Checks the control settings and the token file first: a ConfigError (exit 78) when they are unsafe. */
  static async create(host: Host, config: Config, logger: Logger, options: MetricsOptions = {}): Promise<MetricsRunner> {
    const settings = controlSettings(config);
    const client = settings && new ControlClient(host, settings, logger);
    await client?.checkCredentials();
    const facts = cachedHostFacts(options.hostFacts ?? hostFactsReader(host));
    const reporter = new StatusReporter(config, facts, async () => (client ? client.instanceId() : null), options.statusSources);
    const sampler = new Sampler(host, samplerSettings(config));
    if (client === null) {
      return new MetricsRunner(sampler, reporter, null, sinkOutlet(new FileSink(host, config.METRICS_SINK_FILE)));
    }
    const clock = options.clock ?? systemClock;
    const spool = new Spool(host, { dir: config.SPOOL_DIR, maxBytes: config.SPOOL_MAX_BYTES, maxAgeMs: config.SPOOL_MAX_AGE }, logger);
    const delivery = new Delivery(host, {
      client,
      spool,
      logger,
      hostId: await readHostId(host, hostname()),
      status: (spoolStatus) => reporter.build(spoolStatus),
      clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    const outlet = controlOutlet(delivery, new DeliveryLoop(delivery, clock));
    return new MetricsRunner(sampler, reporter, client, outlet);
  }

  async serve(host: Host, config: Config): Promise<HttpServer | null> {
    if (config.METRICS_PROMETHEUS_LISTEN === null || this.#prometheus) return this.#prometheus;
    this.#prometheus = await servePrometheus(host, config.METRICS_PROMETHEUS_LISTEN, () => this.#reporter.latest);
    return this.#prometheus;
  }

  /** One sample, delivered (or spooled) before it returns: `metrics --once --deliver`. */
  async step(signal?: AbortSignal): Promise<StepResult> {
    const sample = await this.#take();
    return { sample, ...(await this.#outlet.flush(signal)) };
  }

  /** One sample, left to the background delivery: the daemon's metrics job. */
  async sampleAndHandOff(): Promise<StepResult> {
    const sample = await this.#take();
    return { sample, ...this.#outlet.handOff() };
  }

  async #take(): Promise<Sample> {
    const sample = await this.#sampler.sample();
    this.#reporter.latest = sample;
    await this.#outlet.accept(sample);
    return sample;
  }

  get reportsTo(): string | null {
    return this.#client?.url ?? null;
  }

  async close(): Promise<void> {
    await this.#outlet.stop();
    await this.#prometheus?.close();
    this.#prometheus = null;
    await this.#sampler.close();
  }
}

function sinkOutlet(sink: FileSink): Outlet {
  const summary = `sample written to ${sink.path}`;
  const report: Report = { destination: sink.path, summary, details: { sink: sink.path } };
  return {
    accept: (sample) => sink.write(sample),
    flush: async () => report,
    handOff: () => report,
    stop: async () => {},
  };
}

function controlOutlet(delivery: Delivery, loop: DeliveryLoop): Outlet {
  const report = (justTried: boolean): Report => {
    const state = delivery.state();
    const destination = state.spool.pendingSamples > 0 ? 'spool' : 'control';
    const summary = `sample taken; ${describeDelivery(state, justTried)}`;
    return { destination, summary, details: { delivery: state, spool: state.spool } };
  };
  return {
    accept: (sample) => delivery.accept(sample),
    async flush(signal) {
      const { tried } = await delivery.round(signal);
      return report(tried);
    },
    handOff() {
      loop.start();
      loop.kick();
      return report(false);
    },
    stop: () => loop.stop(),
  };
}

/** The daemon's metrics job; its runner is made on the first run and kept. */
export function createMetricsJob(options: MetricsOptions = {}): Job {
  let runner: MetricsRunner | null = null;
  return {
    name: 'metrics',
    intervalMs: (context) => context.config.METRICS_INTERVAL,
    async run(context): Promise<JobResult> {
      if (runner === null) {
        const created = await MetricsRunner.create(context.host, context.config, context.logger, options);
        await created.serve(context.host, context.config);
        context.signal.addEventListener('abort', () => void created.close(), { once: true });
        runner = created;
      }
      const { summary, details } = await runner.sampleAndHandOff();
      return { summary, details };
    },
  };
}

export const metricsJob: Job = createMetricsJob();

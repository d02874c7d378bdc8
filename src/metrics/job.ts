import { hostname } from 'node:os';

import { ControlClient } from '../control/client.ts';
import { type Backoff, Delivery } from '../control/delivery.ts';
import { FileSink } from '../control/file-sink.ts';
import { controlSettings } from '../control/settings.ts';
import { Spool } from '../control/spool.ts';
import type { Config } from '../core/config/load.ts';
import type { Logger } from '../core/logger.ts';
import type { Job, JobResult } from '../daemon/job.ts';
import type { Host, HttpServer } from '../host/host.ts';
import { cachedHostFacts, type HostFactsReader } from './host-facts.ts';
import { servePrometheus } from './prometheus-endpoint.ts';
import type { Sample } from './sample.ts';
import { Sampler, samplerSettings } from './sampler.ts';
import { readHostId, StatusReporter, type StatusSources } from './status.ts';

/**
 * The metrics job: every METRICS_INTERVAL, one sample, delivered to the
 * control endpoint (spooled while it is away) or, without CONTROL_URL,
 * appended to the local sink; the Prometheus endpoint serves the latest one.
 */
export interface MetricsOptions {
  readonly statusSources?: StatusSources;
  readonly hostFacts?: HostFactsReader;
  readonly backoff?: Backoff;
}

export interface StepResult {
  readonly sample: Sample;
  /** Where the sample went: "control", "spool" or the sink's path. */
  readonly destination: string;
  readonly summary: string;
  readonly details: unknown;
}

type Deliver = (sample: Sample, signal?: AbortSignal) => Promise<Omit<StepResult, 'sample'>>;

export class MetricsRunner {
  readonly #sampler: Sampler;
  readonly #reporter: StatusReporter;
  readonly #deliver: Deliver;
  readonly #client: ControlClient | null;
  #prometheus: HttpServer | null = null;

  private constructor(sampler: Sampler, reporter: StatusReporter, client: ControlClient | null, deliver: Deliver) {
    this.#sampler = sampler;
    this.#reporter = reporter;
    this.#client = client;
    this.#deliver = deliver;
  }

  /** Checks the control settings and the token file first: a ConfigError (exit 78) when they are unsafe. */
  static async create(host: Host, config: Config, logger: Logger, options: MetricsOptions = {}): Promise<MetricsRunner> {
    const settings = controlSettings(config);
    const client = settings && new ControlClient(host, settings, logger);
    await client?.checkCredentials();
    const facts = cachedHostFacts(options.hostFacts);
    const reporter = new StatusReporter(config, facts, async () => (client ? client.instanceId() : null), options.statusSources);
    const sampler = new Sampler(host, samplerSettings(config));
    if (client === null) return new MetricsRunner(sampler, reporter, null, sinkDelivery(new FileSink(host, config.METRICS_SINK_FILE)));
    const spool = new Spool(host, { dir: config.SPOOL_DIR, maxBytes: config.SPOOL_MAX_BYTES, maxAgeMs: config.SPOOL_MAX_AGE }, logger);
    const delivery = new Delivery(host, {
      client,
      spool,
      logger,
      hostId: await readHostId(host, hostname()),
      status: (spoolStatus) => reporter.build(spoolStatus),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    return new MetricsRunner(sampler, reporter, client, controlDelivery(delivery));
  }

  async serve(host: Host, config: Config): Promise<HttpServer | null> {
    if (config.METRICS_PROMETHEUS_LISTEN === null || this.#prometheus) return this.#prometheus;
    this.#prometheus = await servePrometheus(host, config.METRICS_PROMETHEUS_LISTEN, () => this.#reporter.latest);
    return this.#prometheus;
  }

  async step(signal?: AbortSignal): Promise<StepResult> {
    const sample = await this.#sampler.sample();
    this.#reporter.latest = sample;
    return { sample, ...(await this.#deliver(sample, signal)) };
  }

  get reportsTo(): string | null {
    return this.#client?.url ?? null;
  }

  async close(): Promise<void> {
    await this.#prometheus?.close();
    this.#prometheus = null;
    await this.#sampler.close();
  }
}

function sinkDelivery(sink: FileSink): Deliver {
  return async (sample: Sample) => {
    await sink.write(sample);
    return { destination: sink.path, summary: `sample written to ${sink.path}`, details: { sink: sink.path } };
  };
}

function controlDelivery(delivery: Delivery): Deliver {
  return async (sample: Sample, signal?: AbortSignal) => {
    const result = await delivery.deliver(sample, signal);
    const pending = result.spool.pendingSamples;
    const summary =
      result.problem === null
        ? `delivered ${result.delivered} samples${pending > 0 ? `, ${pending} still spooled` : ''}`
        : `${pending} samples spooled (${result.problem})`;
    return { destination: pending > 0 ? 'spool' : 'control', summary, details: result };
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
      const { summary, details } = await runner.step(context.signal);
      return { summary, details };
    },
  };
}

export const metricsJob: Job = createMetricsJob();

import { ControlClient } from '../control/client.ts';
import { DeliveryLoop } from '../control/delivery-loop.ts';
import { type Backoff, Delivery, type DeliveryState, describeDelivery } from '../control/delivery.ts';
import { FileSink } from '../control/file-sink.ts';
import type { SpoolStatus } from '../control/protocol.ts';
import { controlSettings } from '../control/settings.ts';
import { controlSink } from '../control/sinks/control.ts';
import { openSinks } from '../control/sinks/index.ts';
import type { SampleSink } from '../control/sinks/sink.ts';
import { SharedSpool } from '../control/spool-cursors.ts';
import { Spool } from '../control/spool.ts';
import { readHostId, StatusReporter, type StatusSources } from '../control/status.ts';
import type { Config } from '../core/config/load.ts';
import { AgentError, messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { systemClock } from '../daemon/clock.ts';
import type { Job, JobContext, JobResult } from '../daemon/job.ts';
import type { Clock } from '../daemon/scheduler.ts';
import type { Host } from '../host/host.ts';
import { cachedHostFacts, type HostFactsReader, hostFactsReader } from '../metrics/host-facts.ts';
import { PrometheusEndpoint } from '../metrics/prometheus-endpoint.ts';
import type { Sample } from '../metrics/sample.ts';
import { Sampler, samplerSettings } from '../metrics/sampler.ts';

/**
 * The metrics job: every METRICS_INTERVAL, one sample, spooled for every sink that is on (the control endpoint,
 * CloudWatch, remote write), each delivering from the spool on its own; with no sink on, appended to the local
 * file. The Prometheus endpoint serves the latest one. In the daemon each sink's delivery runs in its own loop
 * (DeliveryLoop), so a hung or refusing sink never delays the next sample nor the other sinks; a one-shot command
 * delivers to every sink before it returns.
 */
export interface MetricsOptions {
  readonly statusSources?: StatusSources;
  readonly hostFacts?: HostFactsReader;
  readonly backoff?: Backoff;
  /** The daemon's delivery loops wait on it (tests inject one they advance by hand). */
  readonly clock?: Clock;
  /** The daemon owns the spool: it forgets the places of sinks turned off. A one-shot command keeps them. */
  readonly ownsSpool?: boolean;
}

export interface StepResult {
  readonly sample: Sample;
  /** Where the sample went: the sinks that have it ("control", "control,cloudwatch"), "spool", or the file's path. */
  readonly destination: string;
  readonly summary: string;
  readonly details: unknown;
}

type Report = Omit<StepResult, 'sample'>;

/** Where samples go: the file, or the sinks' deliveries. */
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
  readonly #logger: Logger;
  #prometheus: PrometheusEndpoint | null = null;

  private constructor(sampler: Sampler, reporter: StatusReporter, outlet: Outlet, logger: Logger) {
    this.#sampler = sampler;
    this.#reporter = reporter;
    this.#outlet = outlet;
    this.#logger = logger;
  }

  /** Checks every sink's settings and credential files first: a ConfigError (exit 78) when they are unsafe. */
  static async create(
    host: Host,
    config: Config,
    logger: Logger,
    options: MetricsOptions = {},
  ): Promise<MetricsRunner> {
    const settings = controlSettings(config);
    const client = settings && new ControlClient(host, settings, logger);
    await client?.checkCredentials();
    const facts = cachedHostFacts(options.hostFacts ?? hostFactsReader(host));
    const reporter = new StatusReporter(
      config,
      facts,
      async () => (client ? client.instanceId() : null),
      options.statusSources,
    );
    const sampler = new Sampler(host, samplerSettings(config));
    const status = (spoolStatus: SpoolStatus) => reporter.build(spoolStatus);
    const control = client && controlSink(host, { client, hostId: await readHostId(host), status });
    const sinks = await openSinks(host, config, logger, control);
    const file = () => fileOutlet(new FileSink(host, config.METRICS_SINK_FILE));
    const outlet = sinks.length === 0 ? file() : spoolOutlet(host, config, logger, sinks, options);
    return new MetricsRunner(sampler, reporter, outlet, logger);
  }

  /** The Prometheus page (METRICS_PROMETHEUS_LISTEN), once: a ConfigError when its web config is unusable. */
  async serve(host: Host, config: Config): Promise<PrometheusEndpoint | null> {
    const listen = config.METRICS_PROMETHEUS_LISTEN;
    if (listen === null || this.#prometheus) return this.#prometheus;
    const { METRICS_PROMETHEUS_WEB_CONFIG: webConfig, METRICS_PROMETHEUS_ALLOW_HTTP: allowHttp } = config;
    const settings = { listen, webConfig, allowHttp };
    this.#prometheus = await PrometheusEndpoint.start(host, settings, () => this.#reporter.latest, this.#logger);
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
    await this.#prometheus?.refresh();
    return sample;
  }

  async close(): Promise<void> {
    await this.#outlet.stop();
    await this.#prometheus?.close();
    this.#prometheus = null;
    await this.#sampler.close();
  }
}

function fileOutlet(sink: FileSink): Outlet {
  const summary = `sample written to ${sink.path}`;
  const report: Report = { destination: sink.path, summary, details: { sink: sink.path } };
  return {
    accept: (sample) => sink.write(sample),
    flush: async () => report,
    handOff: () => report,
    stop: async () => {},
  };
}

interface SinkDelivery {
  readonly sink: SampleSink;
  readonly delivery: Delivery;
  readonly loop: DeliveryLoop;
}

/** The sinks' deliveries, each from its own cursor of the one spool, each in a loop of its own. */
function spoolOutlet(
  host: Host,
  config: Config,
  logger: Logger,
  sinks: readonly SampleSink[],
  options: MetricsOptions,
): Outlet {
  const dir = config.SPOOL_DIR;
  const spool = new Spool(host, { dir, maxBytes: config.SPOOL_MAX_BYTES, maxAgeMs: config.SPOOL_MAX_AGE }, logger);
  const cursors = { dir, sinks: sinks.map((sink) => sink.name), forgetOthers: options.ownsSpool === true };
  const shared = new SharedSpool(host, spool, cursors, logger);
  const clock = options.clock ?? systemClock;
  const backoff = options.backoff ? { backoff: options.backoff } : {};
  const deliveries = sinks.map((sink): SinkDelivery => {
    const delivery = new Delivery({ sink, spool: shared.reader(sink.name), logger, clock, ...backoff });
    return { sink, delivery, loop: new DeliveryLoop(delivery, clock) };
  });
  return deliveryOutlet(shared, deliveries);
}

function deliveryOutlet(shared: SharedSpool, deliveries: readonly SinkDelivery[]): Outlet {
  const report = (justTried: boolean): Report => {
    const states = deliveries.map(({ delivery }) => delivery.state());
    const waiting = states.some((state) => state.spool.pendingSamples > 0);
    const destination = waiting ? 'spool' : states.map((state) => state.sink).join(',');
    const summary = `sample taken; ${states.map((state) => describeDelivery(state, justTried)).join('; ')}`;
    return { destination, summary, details: deliveryDetails(states, shared) };
  };
  return {
    accept: (sample) => shared.append(sample),
    async flush(signal) {
      const rounds = await Promise.allSettled(deliveries.map(({ delivery }) => delivery.round(signal)));
      const failed = rounds.find((round): round is PromiseRejectedResult => round.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      return report(rounds.some((round) => round.status === 'fulfilled' && round.value.tried));
    },
    handOff() {
      for (const { loop } of deliveries) {
        loop.start();
        loop.kick();
      }
      return report(false);
    },
    async stop() {
      await Promise.all(deliveries.map(({ loop }) => loop.stop()));
    },
  };
}

/**
 * What `status --json` shows: every sink's delivery, the first also as `delivery` (what an older agent wrote, and
 * what `status` read then), and the whole spool.
 */
function deliveryDetails(states: readonly DeliveryState[], shared: SharedSpool): unknown {
  return { delivery: states[0], deliveries: states, spool: shared.status() };
}

/** A runner and the configuration it was made from. */
interface Running {
  readonly config: Config;
  readonly runner: MetricsRunner;
  close(): Promise<void>;
}

/**
 * The daemon's metrics job. Its runner (sinks, delivery loops, the Prometheus page) is made on the first run and
 * kept while the configuration stays the same object; after a reload that changed it, the next run makes a new
 * runner and closes the old one. When the new configuration cannot make a runner (an unsafe credential file),
 * the old one goes on sampling and delivering, and the run fails saying so (and tries again at the next).
 */
export function createMetricsJob(options: MetricsOptions = {}): Job {
  let current: Running | null = null;
  const runnerFor = async (context: JobContext): Promise<{ running: Running; refused: string | null }> => {
    if (current?.config === context.config) return { running: current, refused: null };
    try {
      current = await replaceRunner(current, context, options);
      return { running: current, refused: null };
    } catch (error) {
      if (current === null) throw error;
      const refused = `the reloaded metrics settings are not used, the previous ones are: ${messageOf(error)}`;
      return { running: current, refused };
    }
  };
  return {
    name: 'metrics',
    intervalMs: (context) => context.config.METRICS_INTERVAL,
    async run(context): Promise<JobResult> {
      const { running, refused } = await runnerFor(context);
      await running.runner.serve(context.host, running.config);
      const { summary, details } = await running.runner.sampleAndHandOff();
      if (refused !== null) throw new AgentError(`${refused}; ${summary}`);
      return { summary, details };
    },
  };
}

/** The new runner first (it checks the new settings), then the old one closed; both close when the daemon stops. */
async function replaceRunner(old: Running | null, context: JobContext, options: MetricsOptions): Promise<Running> {
  const { host, config, logger, signal } = context;
  const runner = await MetricsRunner.create(host, config, logger, { ownsSpool: true, ...options });
  await old?.close();
  const close = () => void runner.close();
  signal.addEventListener('abort', close, { once: true });
  return { config, runner, close: () => (signal.removeEventListener('abort', close), runner.close()) };
}

export const metricsJob: Job = createMetricsJob();

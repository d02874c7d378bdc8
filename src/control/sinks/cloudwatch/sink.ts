import { type CloudWatch, createCloudWatch, type MetricDatum } from '../../../aws/cloudwatch.ts';
import { awsSettings, hostRegion } from '../../../aws/region.ts';
import type { Config } from '../../../core/config/load.ts';
import { messageOf } from '../../../core/errors.ts';
import type { Host } from '../../../host/host.ts';
import type { Sample } from '../../../metrics/sample.ts';
import { LIMITS } from '../../protocol.ts';
import type { SinkOutcome } from '../../split-send.ts';
import type { InstanceIdentity } from '../instance.ts';
import type { SampleSink } from '../sink.ts';
import { callsOf } from './calls.ts';
import { type DatumOptions, datumsOf } from './metrics.ts';

/**
 * CloudWatch (METRICS_CLOUDWATCH=yes): each sample's metrics (metrics.ts) with PutMetricData, in the namespace
 * METRICS_CLOUDWATCH_NAMESPACE, with the agent's credentials chain (the instance role) and endpoint override
 * (AWS_ENDPOINT_URL_CLOUDWATCH). A sample is one call; a replay after an outage sends up to 15 samples a call
 * (calls.ts keeps every call within the API's limits). Throttling, server errors, a network that is away and
 * credentials or permissions that fail keep the samples spooled and back off; only a call CloudWatch refuses as
 * invalid is halved until the sample it is about is found, dropped and counted. CloudWatch keeps no data point
 * older than two weeks: such samples (possible with SPOOL_MAX_AGE above 14 days) are refused the same way.
 */
const SAMPLES_PER_BATCH = 15;
const MAX_AGE_MS = 14 * 86_400_000 - 3_600_000;
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);
const INVALID = new Set([
  'InvalidParameterValue',
  'InvalidParameterValueException',
  'InvalidParameterCombination',
  'InvalidParameterCombinationException',
  'MissingParameter',
  'MissingRequiredParameterException',
  'ValidationError',
]);
const DENIED = new Set(['AccessDenied', 'AccessDeniedException']);
/** One attempt per call: the sink's delivery backs off into the spool itself, and a call must never hang it. */
const CLIENT_TUNING = { maxAttempts: 1, requestTimeoutMs: 15_000 } as const;

export interface CloudWatchSettings extends DatumOptions {
  readonly namespace: string;
}

export function cloudWatchSettings(config: Config): CloudWatchSettings | null {
  if (!config.METRICS_CLOUDWATCH) return null;
  return { namespace: config.METRICS_CLOUDWATCH_NAMESPACE, mounts: config.METRICS_CLOUDWATCH_MOUNTS };
}

export class CloudWatchSink implements SampleSink {
  readonly name = 'cloudwatch';
  readonly batchSamples = SAMPLES_PER_BATCH;
  readonly batchBytes = LIMITS.batchBytes / 4;
  readonly #host: Host;
  readonly #settings: CloudWatchSettings;
  readonly #instance: InstanceIdentity;
  readonly #client: () => Promise<CloudWatch>;
  #opened: CloudWatch | null = null;

  /** `client`: made on the first call (the region may have to come from IMDS). */
  constructor(host: Host, settings: CloudWatchSettings, instance: InstanceIdentity, client: () => Promise<CloudWatch>) {
    this.#host = host;
    this.#settings = settings;
    this.#instance = instance;
    this.#client = client;
  }

  get endpoint(): string {
    return `CloudWatch namespace ${this.#settings.namespace}`;
  }

  get label(): string {
    return `CloudWatch endpoint for namespace ${this.#settings.namespace}`;
  }

  async send(samples: readonly Sample[]): Promise<SinkOutcome> {
    const tooOld = samples.filter((sample) => Date.parse(sample.time) < this.#host.now().getTime() - MAX_AGE_MS);
    if (tooOld.length > 0)
      return { kind: 'rejected', reason: `CloudWatch takes no data points older than two weeks (${tooOld[0]?.time})` };
    let client: CloudWatch;
    let perSample: MetricDatum[][];
    try {
      const instance = await this.#instance.get();
      perSample = samples.map((sample) => datumsOf(sample, instance, this.#settings));
      client = await this.#openClient();
    } catch (error) {
      return { kind: 'retry', reason: messageOf(error) };
    }
    for (const call of callsOf(perSample, this.#settings.namespace)) {
      try {
        await client.putMetricData({ Namespace: this.#settings.namespace, MetricData: call });
      } catch (error) {
        return cloudWatchOutcome(error, this.#settings.namespace);
      }
    }
    return { kind: 'delivered', receipt: { accepted: samples.length, duplicates: 0 } };
  }

  async #openClient(): Promise<CloudWatch> {
    this.#opened ??= await this.#client();
    return this.#opened;
  }
}

/** The CloudWatch client for config: the host's region (AWS_REGION, else IMDS) and the endpoint override. */
export function cloudWatchClientFor(host: Host, config: Config): () => Promise<CloudWatch> {
  return async () => createCloudWatch(host, awsSettings(config, await hostRegion(host, config)), CLIENT_TUNING);
}

/** What a failed PutMetricData means for the samples of the call. */
export function cloudWatchOutcome(error: unknown, namespace: string): SinkOutcome {
  const { name } = error as { name?: string };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const http = status === undefined ? '' : ` (HTTP ${status})`;
  const reason = `PutMetricData failed${http}: ${name ?? 'Error'}: ${messageOf(error)}`;
  if (status === 413 || name === 'RequestEntityTooLarge') return { kind: 'too-large', reason };
  if (THROTTLED.has(name ?? '') || status === 429)
    return { kind: 'retry', reason: `${reason} (throttled: backing off)` };
  if (status !== undefined && status < 500 && INVALID.has(name ?? '')) return { kind: 'rejected', reason };
  if (DENIED.has(name ?? '') || status === 403) {
    const fix = `the instance role needs cloudwatch:PutMetricData for the namespace ${namespace} (see the README)`;
    return { kind: 'retry', reason: `${reason}; ${fix}` };
  }
  // Server errors, a network that is away, credentials that cannot be had: the samples wait.
  return { kind: 'retry', reason, ...(status === undefined ? { unreachable: true } : {}) };
}

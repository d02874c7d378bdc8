import packageJson from '../../../../package.json' with { type: 'json' };
import type { Config } from '../../../core/config/load.ts';
import { ConfigError, messageOf } from '../../../core/errors.ts';
import type { Host, HttpResponse } from '../../../host/host.ts';
import type { Sample } from '../../../metrics/sample.ts';
import { parseRetryAfter, readTrustAnchors, transportReason } from '../../client.ts';
import { LIMITS } from '../../protocol.ts';
import { isLoopbackHost } from '../../settings.ts';
import { shownText } from '../../shown.ts';
import type { SinkOutcome } from '../../split-send.ts';
import type { InstanceIdentity } from '../instance.ts';
import type { SampleSink } from '../sink.ts';
import { type RemoteWriteAuth, type RemoteWriteAuthSettings, remoteWriteAuth } from './auth.ts';
import { encodeWriteRequest, seriesOf } from './write-request.ts';

/**
 * Prometheus remote write 1.0 (METRICS_REMOTE_WRITE_URL): every sample's `ecs_host_*` series, labelled with
 * `instance_id` and `cluster`, POSTed as a snappy-compressed protobuf WriteRequest. Per the spec, 5xx and 429
 * are retried with backoff (at least Retry-After) and any other 4xx is not: 400, 409 and 422 are about the
 * samples (an out-of-order one), so the batch is halved until the refused sample is found, dropped and counted;
 * 401, 403, 404 and the like refuse whatever the request holds, so the batch is dropped and counted at once.
 * 413 halves the batch (split-send.ts). HTTPS is verified against the system CAs or
 * METRICS_REMOTE_WRITE_CA_BUNDLE; plain http beyond loopback needs METRICS_REMOTE_WRITE_ALLOW_HTTP=yes.
 */
export const REMOTE_WRITE_HEADERS = {
  'content-type': 'application/x-protobuf',
  'content-encoding': 'snappy',
  'x-prometheus-remote-write-version': '0.1.0',
  'user-agent': `ecs-host-agent/${packageJson.version}`,
} as const;

export interface RemoteWriteSettings {
  readonly url: string;
  readonly auth: RemoteWriteAuthSettings;
  readonly caBundle: string | null;
}

/**
 * Host samples per request: about 70 series each, so a batch stays near the 2,000 samples per request that
 * Prometheus' own remote write sends at most by default.
 */
const SAMPLES_PER_REQUEST = 25;
const REQUEST_TIMEOUT_MS = 15_000;
const PROBE_TIMEOUT_MS = 5_000;
const REPLY_BYTES = 64 * 2 ** 10;
/** 4xx that are about the samples in the request: finding the one refused is worth halving the batch. */
const ABOUT_THE_SAMPLES = new Set([400, 409, 422]);
const AMP_HOST = /^aps-workspaces\.([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d+)\.amazonaws\.com$/;

/** Null when METRICS_REMOTE_WRITE_URL is empty; a ConfigError for plain http beyond loopback. */
export function remoteWriteSettings(config: Config, region: () => Promise<string>): RemoteWriteSettings | null {
  const raw = config.METRICS_REMOTE_WRITE_URL;
  if (raw === null) return null;
  const url = new URL(raw);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !config.METRICS_REMOTE_WRITE_ALLOW_HTTP) {
    throw new ConfigError(
      `${config.origins.METRICS_REMOTE_WRITE_URL}: METRICS_REMOTE_WRITE_URL=${JSON.stringify(raw)} is plain http ` +
        'to a host that is not loopback: credentials and samples would cross the network unencrypted; use https, ' +
        'or set METRICS_REMOTE_WRITE_ALLOW_HTTP=yes to accept that',
    );
  }
  return { url: raw, auth: authSettings(config, url, region), caBundle: config.METRICS_REMOTE_WRITE_CA_BUNDLE };
}

function authSettings(config: Config, url: URL, region: () => Promise<string>): RemoteWriteAuthSettings {
  if (config.METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE !== null)
    return { kind: 'bearer', file: config.METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE };
  if (config.METRICS_REMOTE_WRITE_BASIC_AUTH_FILE !== null)
    return { kind: 'basic', file: config.METRICS_REMOTE_WRITE_BASIC_AUTH_FILE };
  if (!config.METRICS_REMOTE_WRITE_SIGV4) return { kind: 'none' };
  // A workspace URL names its region; another endpoint (a proxy) is signed for the host's own.
  const workspaceRegion = AMP_HOST.exec(url.hostname)?.[1];
  return { kind: 'sigv4', region: workspaceRegion === undefined ? region : async () => workspaceRegion };
}

export class RemoteWriteSink implements SampleSink {
  readonly name = 'remote-write';
  readonly batchSamples = SAMPLES_PER_REQUEST;
  readonly batchBytes = LIMITS.batchBytes / 4;
  readonly limitName = "the agent's largest sample";
  readonly #host: Host;
  readonly #settings: RemoteWriteSettings;
  readonly #auth: RemoteWriteAuth;
  readonly #instance: InstanceIdentity;

  constructor(host: Host, settings: RemoteWriteSettings, instance: InstanceIdentity) {
    this.#host = host;
    this.#settings = settings;
    this.#auth = remoteWriteAuth(host, settings.auth);
    this.#instance = instance;
  }

  get endpoint(): string {
    return this.#settings.url;
  }

  get label(): string {
    return `remote write endpoint ${this.#settings.url}`;
  }

  /** Reads the credentials once: a ConfigError (exit 78) when the file is unsafe or malformed. */
  async checkCredentials(): Promise<void> {
    if (this.#settings.auth.kind === 'bearer' || this.#settings.auth.kind === 'basic') {
      await this.#auth.headers({ url: this.#settings.url, headers: {}, body: new Uint8Array() });
    }
  }

  async send(samples: readonly Sample[]): Promise<SinkOutcome> {
    let labels;
    try {
      labels = await this.#instance.get();
    } catch (error) {
      return { kind: 'retry', reason: messageOf(error) };
    }
    const body = encodeWriteRequest(seriesOf(samples, { instance_id: labels.instanceId, cluster: labels.cluster }));
    const { url } = this.#settings;
    let auth: Record<string, string>;
    try {
      auth = await this.#auth.headers({ url, headers: REMOTE_WRITE_HEADERS, body });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return { kind: 'retry', reason: `cannot sign the request: ${messageOf(error)}` };
    }
    let response: HttpResponse;
    try {
      const ca = await this.#trustAnchors();
      const headers = { ...REMOTE_WRITE_HEADERS, ...auth };
      response = await this.#host.http({
        method: 'POST',
        url,
        headers,
        body,
        timeoutMs: REQUEST_TIMEOUT_MS,
        maxResponseBytes: REPLY_BYTES,
        ...ca,
      });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return {
        kind: 'retry',
        reason: `POST failed: ${transportReason(error, 'METRICS_REMOTE_WRITE_CA_BUNDLE')}`,
        unreachable: true,
      };
    }
    return remoteWriteOutcome(response, samples.length, this.#host.now());
  }

  /** Any HTTP answer at all (a 405 to GET included) says the endpoint is back. */
  async probe(): Promise<{ reachable: boolean; evidence: string }> {
    const { url } = this.#settings;
    try {
      const ca = await this.#trustAnchors();
      const response = await this.#host.http({
        method: 'GET',
        url,
        timeoutMs: PROBE_TIMEOUT_MS,
        maxResponseBytes: REPLY_BYTES,
        ...ca,
      });
      return { reachable: true, evidence: `GET ${url} answered HTTP ${response.status}` };
    } catch (error) {
      return {
        reachable: false,
        evidence: `GET ${url} failed: ${transportReason(error, 'METRICS_REMOTE_WRITE_CA_BUNDLE')}`,
      };
    }
  }

  async #trustAnchors(): Promise<{ ca?: string }> {
    if (!this.#settings.url.startsWith('https:')) return {};
    return { ca: await readTrustAnchors(this.#host, 'METRICS_REMOTE_WRITE_CA_BUNDLE', this.#settings.caBundle) };
  }
}

/** What a remote-write endpoint's answer means for the samples sent (the spec's retry rules). */
export function remoteWriteOutcome(response: HttpResponse, count: number, now: Date): SinkOutcome {
  const { status } = response;
  const said = `POST answered HTTP ${status}`;
  const excerpt = shownText(Buffer.from(response.body).toString('utf8'));
  if (status >= 200 && status < 300) return { kind: 'delivered', receipt: { accepted: count, duplicates: 0 } };
  if (status === 413) return { kind: 'too-large', reason: said };
  if (status === 429 || status >= 500) {
    const retryAfterMs =
      status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], now) : null;
    const unreachable = retryAfterMs === null && (status === 502 || status === 503 || status === 504);
    return {
      kind: 'retry',
      reason: `${said}: ${excerpt}`,
      ...(retryAfterMs !== null && { retryAfterMs }),
      ...(unreachable && { unreachable }),
    };
  }
  if (ABOUT_THE_SAMPLES.has(status)) return { kind: 'rejected', reason: `${said}: ${excerpt}` };
  if (status >= 400) return { kind: 'rejected', reason: `${said}: ${excerpt}`, wholeRequest: true };
  const location = response.headers.location === undefined ? '' : ` to ${shownText(response.headers.location)}`;
  return {
    kind: 'retry',
    reason: `${said}${location}, which is not followed: set METRICS_REMOTE_WRITE_URL to where the endpoint is`,
  };
}

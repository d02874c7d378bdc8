import type { Config } from '../core/config/load.ts';
import { AgentError, ConfigError, messageOf } from '../core/errors.ts';
import { parseJson } from '../core/json.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { Host, HttpRequest, HttpResponse } from '../host/host.ts';
import { IdentitySource, readToken } from './auth.ts';
import { validate } from './json-schema.ts';
import {
  type Batch,
  EVENTS_PATH,
  type EventBatch,
  HEADERS,
  LIMITS,
  PING_PATH,
  type Receipt,
  SAMPLES_PATH,
  USERS_PATH,
} from './protocol.ts';
import { pongSchema, receiptSchema } from './schemas.ts';
import { shownText } from './shown.ts';
import { type ControlSettings, controlSettings } from './settings.ts';

/**
 * Speaks protocol v1 to the control endpoint. Every reply is checked (status,
 * content type, size, schema); what the endpoint got wrong is a SendOutcome
 * with a reason for the log, never an exception that could stop the agent.
 */
export type SendOutcome =
  | { readonly kind: 'delivered'; readonly receipt: Receipt }
  /**
   * Worth sending again later; retryAfterMs from a Retry-After header. `unreachable`: no reply came from the
   * endpoint itself (connection refused, timeout, a gateway's 502/503/504), so a ping that succeeds says it is back.
   */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number; readonly unreachable?: boolean }
  /** The endpoint refused the batch as invalid, in protocol v1's words (a JSON error body): no use sending it again. */
  | { readonly kind: 'rejected'; readonly reason: string }
  /** HTTP 413: the batch is too large for the endpoint, or something in front of it. */
  | { readonly kind: 'too-large'; readonly reason: string };

/** What `doctor` learns from GET /v1/ping: reachable means TLS trusted, token accepted, protocol v1 spoken. */
export interface ProbeResult {
  readonly reachable: boolean;
  readonly evidence: string;
  /** The fix in one sentence, when not reachable. */
  readonly fix?: string;
}

const REQUEST_TIMEOUT_MS = 15_000;
/** A Retry-After beyond this is not believed. */
const MAX_RETRY_AFTER_MS = 3_600_000;

export class ControlClient {
  readonly #host: Host;
  readonly #settings: ControlSettings;
  readonly #identity: IdentitySource;

  constructor(host: Host, settings: ControlSettings, logger: Logger = silentLogger) {
    this.#host = host;
    this.#settings = settings;
    this.#identity = new IdentitySource(host, settings, logger);
  }

  get url(): string {
    return this.#settings.url;
  }

  /** The instance id from the identity document, when there is one. */
  async instanceId(): Promise<string | null> {
    return (await this.#identity.get())?.instanceId ?? null;
  }

  /** Reads the token file: a ConfigError (exit 78) when its permissions are unsafe. */
  async checkCredentials(): Promise<void> {
    if (this.#settings.tokenFile !== null) await readToken(this.#host, this.#settings.tokenFile);
  }

  send(batch: Batch): Promise<SendOutcome> {
    return this.#post(SAMPLES_PATH, batch);
  }

  /** POST /v1/events: the same replies, retries and idempotency as samples. */
  sendEvents(batch: EventBatch): Promise<SendOutcome> {
    return this.#post(EVENTS_PATH, batch);
  }

  /** GET /v1/ping with the configured credentials: changes nothing on the endpoint. */
  async probe(): Promise<ProbeResult> {
    const url = `${this.#settings.url}${PING_PATH}`;
    let response: HttpResponse;
    try {
      response = await this.#request({ method: 'GET', url, headers: { accept: 'application/json' } });
    } catch (error) {
      if (error instanceof ConfigError)
        return { reachable: false, evidence: error.message, fix: 'correct the file the evidence names' };
      return {
        reachable: false,
        evidence: `GET ${url} failed: ${transportReason(error)}`,
        fix: isCertificateError(error) ? UNTRUSTED_FIX : UNREACHABLE_FIX,
      };
    }
    return probeResultOf(response, url, this.#settings);
  }

  async #post(path: string, batch: Batch | EventBatch): Promise<SendOutcome> {
    let response: HttpResponse;
    try {
      response = await this.#request({
        method: 'POST',
        url: `${this.#settings.url}${path}`,
        headers: {
          'content-type': 'application/json',
          [HEADERS.idempotencyKey]: batch.batchId,
          [HEADERS.hostId]: batch.hostId,
        },
        body: JSON.stringify(batch),
      });
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      return { kind: 'retry', reason: `POST ${path} failed: ${transportReason(error)}`, unreachable: true };
    }
    return outcomeOf(response, batch.batchId, this.#host.now(), path);
  }

  /** GET {CONTROL_URL}/v1/users: the host's desired users document, parsed but not interpreted. */
  async usersDocument(): Promise<unknown> {
    const url = `${this.#settings.url}${USERS_PATH}`;
    let response: HttpResponse;
    try {
      response = await this.#request(
        { method: 'GET', url, headers: { accept: 'application/json' } },
        LIMITS.usersDocumentBytes,
      );
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new AgentError(`GET ${url} failed: ${transportReason(error)}`);
    }
    const body = Buffer.from(response.body).toString('utf8');
    if (response.status === 404)
      throw new AgentError(`GET ${url} answered 404: the control endpoint has no users document for this host`);
    if (response.status !== 200) throw new AgentError(`GET ${url} answered HTTP ${response.status}: ${excerpt(body)}`);
    if (!isJson(response))
      throw new AgentError(
        `GET ${url} answered with content type ` +
          `${JSON.stringify(response.headers['content-type'] ?? '')}, not application/json`,
      );
    try {
      return JSON.parse(body) as unknown;
    } catch {
      throw new AgentError(`GET ${url} answered with malformed JSON: ${excerpt(body)}`);
    }
  }

  async #request(request: HttpRequest, maxResponseBytes: number = LIMITS.replyBytes): Promise<HttpResponse> {
    const identity = await this.#identity.get();
    const token = this.#settings.tokenFile === null ? null : await readToken(this.#host, this.#settings.tokenFile);
    const https = request.url.startsWith('https:');
    const ca = https ? await readTrustAnchors(this.#host, 'CONTROL_CA_BUNDLE', this.#settings.caBundle) : undefined;
    return this.#host.http({
      ...request,
      headers: {
        ...request.headers,
        ...identity?.headers,
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      },
      timeoutMs: REQUEST_TIMEOUT_MS,
      maxResponseBytes,
      ...(ca === undefined ? {} : { ca }),
    });
  }
}

/** What an https request trusts: the system CAs, or only those of the PEM bundle the key names. */
export async function readTrustAnchors(host: Host, key: string, bundle: string | null): Promise<string> {
  if (bundle === null) return 'system';
  const text = (await host.stat(bundle)) === null ? '' : await host.readText(bundle);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${key} ${bundle} is missing or holds no PEM certificate`);
  }
  return text;
}

/** `fetchUsersDocument(host, config)`: for the users concern's `control` source. */
export async function fetchUsersDocument(host: Host, config: Config): Promise<unknown> {
  const settings = controlSettings(config);
  if (settings === null)
    throw new ConfigError(`USERS_SOURCE=control needs CONTROL_URL (${config.origins.CONTROL_URL})`);
  return new ControlClient(host, settings).usersDocument();
}

/** `probeControlEndpoint(host, config)`: for doctor's control-endpoint check. */
export async function probeControlEndpoint(host: Host, config: Config): Promise<ProbeResult> {
  const settings = controlSettings(config);
  if (settings === null) return { reachable: true, evidence: 'CONTROL_URL is not set: nothing is reported' };
  return new ControlClient(host, settings).probe();
}

function probeResultOf(response: HttpResponse, url: string, settings: ControlSettings): ProbeResult {
  const said = `GET ${url} answered HTTP ${response.status}`;
  const credentials =
    settings.tokenFile === null
      ? 'without a token (CONTROL_TOKEN_FILE is empty)'
      : `with the token from ${settings.tokenFile}`;
  const body = Buffer.from(response.body).toString('utf8');
  if (response.status === 401 || response.status === 403) {
    const fix =
      settings.tokenFile === null
        ? 'set CONTROL_TOKEN_FILE to a file (mode 0600) holding ' + "the endpoint's token"
        : `write the token the endpoint expects to ${settings.tokenFile} (one line, mode 0600)`;
    return { reachable: false, evidence: `${said} ${credentials}: the endpoint refused the credentials`, fix };
  }
  if (response.status === 404) {
    return {
      reachable: false,
      evidence: `${said}: no protocol v1 endpoint there`,
      fix: 'set CONTROL_URL to the base URL the endpoint serves /v1/... below',
    };
  }
  if (response.status !== 200)
    return {
      reachable: false,
      evidence: `${said}: ${excerpt(body)}`,
      fix: 'check the control ' + "endpoint's health and logs",
    };
  const problems = isJson(response) ? validate(pongSchema, parseJson(body), 3) : ['not application/json'];
  if (problems.length > 0)
    return {
      reachable: false,
      evidence: `${said} but not with a protocol v1 reply (${problems.join('; ')})`,
      fix: 'check that CONTROL_URL is an ecs-host-agent control endpoint',
    };
  const transport = settings.url.startsWith('https:')
    ? `, TLS verified against ${settings.caBundle ?? 'the system CAs'}`
    : '';
  return { reachable: true, evidence: `${said} ${credentials}${transport}` };
}

export function outcomeOf(
  response: HttpResponse,
  batchId: string,
  now: Date,
  path: string = SAMPLES_PATH,
): SendOutcome {
  const status = response.status;
  const body = Buffer.from(response.body).toString('utf8');
  const said = `POST ${path} answered HTTP ${status}`;
  if (status >= 200 && status < 300) return receiptOutcome(response, body, batchId, said);
  if (status === 400 || status === 422) return refusalOutcome(response, body, said);
  if (status === 413) return { kind: 'too-large', reason: said };
  if (status === 401 || status === 403)
    return { kind: 'retry', reason: `${said}: the endpoint refused the credentials (check CONTROL_TOKEN_FILE)` };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], now) : null;
  // A gateway's 502/503/504 without Retry-After: the endpoint behind it is away, as when it refuses connections.
  const unreachable = retryAfterMs === null && (status === 502 || status === 503 || status === 504);
  const reason = `${said}: ${excerpt(body)}`;
  return { kind: 'retry', reason, ...(retryAfterMs !== null && { retryAfterMs }), ...(unreachable && { unreachable }) };
}

/**
 * A protocol v1 endpoint says why a batch is invalid in a JSON object with an `error` text or a `problems` list.
 * A 400 without one comes from something else (a proxy, a WAF answering 400 to everything): no reason to drop
 * anything, so it is retried.
 */
function refusalOutcome(response: HttpResponse, body: string, said: string): SendOutcome {
  const refusal = (isJson(response) ? parseJson(body) : undefined) as { error?: unknown; problems?: unknown } | null;
  if (typeof refusal?.error === 'string' || Array.isArray(refusal?.problems)) {
    return { kind: 'rejected', reason: `${said}: ${excerpt(body)}` };
  }
  return { kind: 'retry', reason: `${said} without a protocol v1 error body (a proxy or firewall?): ${excerpt(body)}` };
}

function receiptOutcome(response: HttpResponse, body: string, batchId: string, said: string): SendOutcome {
  // Without a valid receipt nobody knows what the endpoint stored: send again (the batch id makes that safe).
  if (!isJson(response))
    return {
      kind: 'retry',
      reason:
        `${said} with content type ` +
        `${JSON.stringify(response.headers['content-type'] ?? '')}, not application/json`,
    };
  let receipt: unknown;
  try {
    receipt = JSON.parse(body);
  } catch {
    return { kind: 'retry', reason: `${said} with malformed JSON: ${excerpt(body)}` };
  }
  const problems = validate(receiptSchema, receipt, 3);
  if (problems.length > 0)
    return {
      kind: 'retry',
      reason: `${said} with a receipt that does not fit the protocol: ${problems.join('; ')}`,
    };
  if ((receipt as Receipt).batchId !== batchId)
    return {
      kind: 'retry',
      reason: `${said} with the receipt of another batch (${(receipt as Receipt).batchId})`,
    };
  return { kind: 'delivered', receipt: receipt as Receipt };
}

/** Retry-After as seconds or an HTTP date; null when absent or nonsense. */
export function parseRetryAfter(value: string | undefined, now: Date): number | null {
  if (value === undefined) return null;
  const ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) * 1000 : Date.parse(value) - now.getTime();
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_RETRY_AFTER_MS) : null;
}

function isJson(response: HttpResponse): boolean {
  return /^application\/json\s*(;|$)/i.test(response.headers['content-type'] ?? '');
}

function excerpt(body: string): string {
  return shownText(body);
}

/** OpenSSL's verdicts (Node's `code`) that trusting the endpoint's CA fixes: the chain ends in a CA the agent lacks. */
const UNTRUSTED_CHAIN = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_UNTRUSTED',
]);
const untrustedFix = (caKey: string) =>
  `trust the endpoint's CA with ${caKey} (a PEM file of its CA certificates), ` +
  'or give the endpoint a certificate the system CAs trust';
const UNTRUSTED_FIX = untrustedFix('CONTROL_CA_BUNDLE');
const UNREACHABLE_FIX = 'check CONTROL_URL and outbound HTTPS to the endpoint (proxy, firewall, security groups)';

function isCertificateError(error: unknown): boolean {
  return UNTRUSTED_CHAIN.has(String((error as { code?: unknown } | null)?.code ?? ''));
}

/**
 * Why a request got no reply. Node ends some certificate errors with advice for Node users ("try running
 * Node.js with --use-system-ca"), which the agent's operators cannot follow: the agent's own setting (caKey)
 * replaces it.
 */
export function transportReason(error: unknown, caKey = 'CONTROL_CA_BUNDLE'): string {
  const cause = error instanceof Error ? error.cause : undefined;
  const full = cause === undefined ? messageOf(error) : `${messageOf(error)}: ${messageOf(cause)}`;
  const message = full.replace(/;[^;]*--use-system-ca[^;]*/g, '');
  if (!isCertificateError(error)) return message;
  return `${message} (${String((error as { code: unknown }).code)}); ${untrustedFix(caKey)}`;
}

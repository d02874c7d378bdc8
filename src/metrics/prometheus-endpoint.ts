import { isLoopbackAddress, type ListenAddress } from '../core/config/keys.ts';
import { ConfigError, messageOf } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { Host, HttpResponse, HttpServer, ServedRequest } from '../host/host.ts';
import type { AuthVerdict, BasicAuth } from './basic-auth.ts';
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus } from './prometheus.ts';
import type { Sample } from './sample.ts';
import type { LoadedWebConfig } from './web-config.ts';

/**
 * METRICS_PROMETHEUS_LISTEN: the latest sample as Prometheus text. A scrape renders what the job sampled last and
 * costs no sampling of its own; before the first sample it answers 503. On loopback by default; beyond it only
 * with a web config (METRICS_PROMETHEUS_WEB_CONFIG) that authenticates scrapers (basic_auth_users, or client
 * certificates) and, unless METRICS_PROMETHEUS_ALLOW_HTTP=yes, serves TLS. The web config and the files it names
 * are read again when one of them changes (a renewed certificate, a new user), checked on every sample; a change
 * that does not read is logged and the last good one kept.
 */
export interface PrometheusSettings {
  readonly listen: ListenAddress;
  readonly webConfig: string | null;
  readonly allowHttp: boolean;
}

const REALM = 'Basic realm="ecs-host-agent", charset="UTF-8"';

export class PrometheusEndpoint {
  readonly #host: Host;
  readonly #settings: PrometheusSettings;
  readonly #logger: Logger;
  readonly #server: HttpServer;
  #loaded: LoadedWebConfig | null;
  #auth: BasicAuth | null = null;

  private constructor(
    host: Host,
    settings: PrometheusSettings,
    logger: Logger,
    server: HttpServer,
    loaded: LoadedWebConfig | null,
  ) {
    this.#host = host;
    this.#settings = settings;
    this.#logger = logger;
    this.#server = server;
    this.#loaded = loaded;
  }

  /** A ConfigError (exit 78) when the web config does not read, or does not protect a page beyond loopback. */
  static async start(
    host: Host,
    settings: PrometheusSettings,
    latest: () => Sample | null,
    logger: Logger,
  ): Promise<PrometheusEndpoint> {
    const loaded =
      settings.webConfig === null
        ? null
        : await (await import('./web-config.ts')).loadWebConfig(host, settings.webConfig);
    checkExposure(settings, loaded);
    let endpoint: PrometheusEndpoint | null = null;
    const handler = (request: ServedRequest) =>
      endpoint === null ? text(503, 'starting\n') : endpoint.#answer(request, latest);
    const { address, port } = settings.listen;
    const server = await host.serveHttp(
      { address, port, maxBodyBytes: 0, ...(loaded?.tls ? { tls: loaded.tls } : {}) },
      handler,
    );
    endpoint = new PrometheusEndpoint(host, settings, logger, server, loaded);
    endpoint.#auth = await authOf(loaded);
    return endpoint;
  }

  get url(): string {
    return this.#server.url;
  }

  /** Reads the web config again when a file of it changed; never throws. */
  async refresh(): Promise<void> {
    const { webConfig } = this.#settings;
    if (webConfig === null || this.#loaded === null) return;
    const { loadWebConfig, webConfigChanged } = await import('./web-config.ts');
    if (!(await webConfigChanged(this.#host, this.#loaded).catch(() => true))) return;
    try {
      const next = await loadWebConfig(this.#host, webConfig);
      checkExposure(this.#settings, next);
      if ((next.tls === null) !== (this.#loaded.tls === null))
        throw new ConfigError('turning TLS on or off takes a restart of the agent');
      if (next.tls !== null) this.#server.setTls?.(next.tls);
      this.#auth = await authOf(next);
      this.#loaded = next;
      this.#logger.info(
        `METRICS_PROMETHEUS_WEB_CONFIG ${webConfig} read again: the Prometheus page uses it from now on`,
      );
    } catch (error) {
      this.#loaded = { ...this.#loaded, versions: new Map() };
      this.#logger.error(
        `METRICS_PROMETHEUS_WEB_CONFIG ${webConfig} changed but is not used: ${messageOf(error)}; ` +
          'the page keeps the last good one',
      );
    }
  }

  close(): Promise<void> {
    return this.#server.close();
  }

  async #answer(request: ServedRequest, latest: () => Sample | null): Promise<HttpResponse> {
    const verdict: AuthVerdict = this.#auth === null ? 'ok' : await this.#auth.check(request.headers.authorization);
    if (verdict === 'denied')
      return { ...text(401, 'unauthorized\n'), headers: { 'content-type': 'text/plain', 'www-authenticate': REALM } };
    if (verdict === 'busy')
      return {
        ...text(429, 'too many authentication attempts at once\n'),
        headers: { 'content-type': 'text/plain', 'retry-after': '1' },
      };
    const path = request.path.split('?', 1)[0];
    if (path !== '/metrics') return text(404, 'try /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') return text(405, 'use GET\n');
    const sample = latest();
    return sample === null
      ? text(503, 'no sample taken yet\n')
      : text(200, renderPrometheus(sample), PROMETHEUS_CONTENT_TYPE);
  }
}

/** bcryptjs and the checks are loaded only when the web config has users. */
async function authOf(loaded: LoadedWebConfig | null): Promise<BasicAuth | null> {
  if (loaded === null || loaded.config.users.size === 0) return null;
  return new (await import('./basic-auth.ts')).BasicAuth(loaded.config.users);
}

/** Beyond loopback: scrapers must authenticate, and over TLS unless plain http was allowed. */
function checkExposure(settings: PrometheusSettings, loaded: LoadedWebConfig | null): void {
  if (isLoopbackAddress(settings.listen.address)) return;
  const where = `METRICS_PROMETHEUS_LISTEN=${settings.listen.address}:${settings.listen.port} is beyond loopback`;
  const file = `METRICS_PROMETHEUS_WEB_CONFIG ${settings.webConfig ?? '(empty)'}`;
  const clientCerts = (loaded?.config.tls?.clientCaFile ?? null) !== null;
  if (loaded === null || (loaded.config.users.size === 0 && !clientCerts)) {
    throw new ConfigError(
      `${where}, and ${file} authenticates nobody: add basic_auth_users, or client certificates ` +
        '(client_auth_type RequireAndVerifyClientCert)',
    );
  }
  if (loaded.tls === null && !settings.allowHttp) {
    throw new ConfigError(
      `${where} without tls_server_config in ${file}: passwords and metrics would cross the network in the clear; ` +
        'add TLS, or set METRICS_PROMETHEUS_ALLOW_HTTP=yes to accept that',
    );
  }
}

function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): HttpResponse {
  return { status, headers: { 'content-type': contentType }, body: new TextEncoder().encode(body) };
}

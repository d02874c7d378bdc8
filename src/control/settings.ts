import type { Config } from '../core/config/load.ts';
import { ConfigError } from '../core/errors.ts';

/** The control endpoint as configured, checked: https, or plain http only to loopback or when explicitly allowed. */
export interface ControlSettings {
  /** Base URL without a trailing slash. */
  readonly url: string;
  readonly tokenFile: string | null;
  /** PEM file replacing the system CAs for https. */
  readonly caBundle: string | null;
  readonly identity: 'auto' | 'no';
  readonly imdsEndpoint: string;
}

/** Null when CONTROL_URL is empty (samples go to the local sink). */
export function controlSettings(config: Config): ControlSettings | null {
  if (config.CONTROL_URL === null) return null;
  const url = new URL(config.CONTROL_URL);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !config.CONTROL_ALLOW_HTTP) {
    throw new ConfigError(
      `${config.origins.CONTROL_URL}: CONTROL_URL=${JSON.stringify(config.CONTROL_URL)} is plain ` +
        `http to a host that is not loopback: the token and samples would cross the network ` +
        `unencrypted; use https, or set CONTROL_ALLOW_HTTP=yes to accept that`,
    );
  }
  return {
    url: config.CONTROL_URL,
    tokenFile: config.CONTROL_TOKEN_FILE,
    caBundle: config.CONTROL_CA_BUNDLE,
    identity: config.CONTROL_IDENTITY,
    imdsEndpoint: config.AWS_EC2_METADATA_SERVICE_ENDPOINT,
  };
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

import { parseSystemdEnvironmentFile } from '../concerns/ecs-config/readers.ts';
import { PATHS } from '../core/paths.ts';

/**
 * The proxy the ECS agent and ecs-init would use: HTTPS_PROXY or HTTP_PROXY
 * from /etc/ecs/ecs.config (the unit's EnvironmentFile), else from the
 * environment doctor runs in; hosts matching NO_PROXY go direct.
 */
export interface ProxySettings {
  /** http://host:port, or null for direct connections. */
  readonly url: string | null;
  readonly noProxy: readonly string[];
  /** Where the setting came from, for the evidence. */
  readonly source: string;
}

const PROXY_KEYS = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];
const NO_PROXY_KEYS = ['NO_PROXY', 'no_proxy'];

export function proxySettings(
  ecsConfig: string | null,
  env: Readonly<Record<string, string | undefined>>,
): ProxySettings {
  const fromFile = ecsConfig === null ? {} : parseSystemdEnvironmentFile(ecsConfig);
  for (const [values, source] of [
    [fromFile, PATHS.ecsConfig],
    [env, 'the environment'],
  ] as const) {
    const url = first(values, PROXY_KEYS);
    if (url) return { url: withScheme(url), noProxy: noProxyList(first(values, NO_PROXY_KEYS)), source };
  }
  return { url: null, noProxy: [], source: 'none' };
}

/** The proxy for a host name, or null when the connection goes direct. */
export function proxyFor(settings: ProxySettings, hostname: string): string | null {
  if (settings.url === null) return null;
  const name = hostname.toLowerCase();
  const bypass = settings.noProxy.some((entry) => entry === '*' || name === entry || name.endsWith(`.${entry}`));
  return bypass ? null : settings.url;
}

function first(values: Readonly<Record<string, string | undefined>>, keys: readonly string[]): string | null {
  for (const key of keys) if (values[key]) return values[key] as string;
  return null;
}

/** ECS's documentation writes HTTP_PROXY=10.0.0.131:3128, without a scheme. */
function withScheme(url: string): string {
  return /^[a-z]+:\/\//i.test(url) ? url : `http://${url}`;
}

function noProxyList(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) =>
      entry
        .trim()
        .toLowerCase()
        .replace(/^\*?\./, '')
        .replace(/:\d+$/, ''),
    )
    .filter(Boolean);
}

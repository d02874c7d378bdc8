import { posix } from 'node:path';

import { parse } from 'yaml';

import { ConfigError, messageOf } from '../core/errors.ts';
import type { FileInfo, Host, TlsCredentials } from '../host/host.ts';

/**
 * METRICS_PROMETHEUS_WEB_CONFIG: TLS and basic auth for the Prometheus page, in the YAML format of the
 * `--web.config.file` that Prometheus' own exporters read (the exporter-toolkit), so the file an operator already
 * keeps for node_exporter works here. Supported: tls_server_config (cert_file, key_file, client_auth_type
 * NoClientCert or RequireAndVerifyClientCert, client_ca_file, min_version TLS12 or TLS13) and basic_auth_users
 * (user: bcrypt hash). Anything else is refused by name rather than ignored. Relative file names are relative to
 * the config file's directory, as the exporters read them. The files are read again when one of them changes.
 * This module (and yaml, eemeli/yaml: YAML 1.2, duplicate keys refused) is loaded only when there is a web config.
 */
export interface WebConfig {
  readonly tls: TlsFiles | null;
  /** User name → bcrypt hash. */
  readonly users: ReadonlyMap<string, string>;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** Clients must present a certificate signed by a CA of this file (RequireAndVerifyClientCert). */
  readonly clientCaFile: string | null;
  readonly minVersion: TlsCredentials['minVersion'];
}

/** A web config as read, with the TLS credentials it names. */
export interface LoadedWebConfig {
  readonly config: WebConfig;
  readonly tls: TlsCredentials | null;
  /** The files read and their modification times: a change to one of them means reading again. */
  readonly versions: ReadonlyMap<string, number>;
}

const KEY = 'METRICS_PROMETHEUS_WEB_CONFIG';
const TOP_KEYS = ['tls_server_config', 'basic_auth_users'];
const TLS_KEYS = ['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version'];
const CLIENT_AUTH = ['NoClientCert', 'RequireAndVerifyClientCert'];
const MIN_VERSIONS: Record<string, TlsCredentials['minVersion']> = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' };
/** What bcrypt produces ($2a$, $2b$ or $2y$, a cost, 53 characters of salt and hash): what htpasswd -B writes. */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

export async function loadWebConfig(host: Host, path: string): Promise<LoadedWebConfig> {
  const text = await readConfigFile(host, path, 'the file');
  const config = await parseWebConfig(text, path);
  const files =
    config.tls === null
      ? []
      : [
          config.tls.certFile,
          config.tls.keyFile,
          ...(config.tls.clientCaFile === null ? [] : [config.tls.clientCaFile]),
        ];
  const tls = config.tls === null ? null : await readTls(host, path, config.tls);
  const versions = new Map<string, number>();
  for (const file of [path, ...files]) versions.set(file, (await host.stat(file))?.mtimeMs ?? 0);
  return { config, tls, versions };
}

/** Whether a file the web config was read from has changed since. */
export async function webConfigChanged(host: Host, loaded: LoadedWebConfig): Promise<boolean> {
  for (const [file, mtimeMs] of loaded.versions) {
    const info: FileInfo | null = await host.stat(file);
    if (info?.mtimeMs !== mtimeMs) return true;
  }
  return false;
}

export async function parseWebConfig(text: string, path: string): Promise<WebConfig> {
  const document = parseYaml(text, path);
  const top = mapping(document ?? {}, path, 'the document');
  refuseUnknown(top, TOP_KEYS, path, '');
  const tls =
    top.tls_server_config === undefined || top.tls_server_config === null
      ? null
      : tlsFiles(top.tls_server_config, path);
  const users = new Map<string, string>();
  const listed =
    top.basic_auth_users === undefined || top.basic_auth_users === null
      ? {}
      : mapping(top.basic_auth_users, path, 'basic_auth_users');
  for (const [user, hash] of Object.entries(listed)) {
    if (typeof hash !== 'string' || !BCRYPT.test(hash)) {
      throw new ConfigError(
        `${KEY} ${path}: basic_auth_users.${user} is not a bcrypt hash; ` +
          `allowed: a hash from htpasswd -nBC 10 "" | tr -d ':\\n'`,
      );
    }
    users.set(user, hash);
  }
  return { tls, users };
}

function tlsFiles(value: unknown, path: string): TlsFiles {
  const tls = mapping(value, path, 'tls_server_config');
  refuseUnknown(tls, TLS_KEYS, path, 'tls_server_config.');
  const file = (name: string): string | null => {
    const raw = tls[name];
    if (raw === undefined || raw === null || raw === '') return null;
    if (typeof raw !== 'string') throw new ConfigError(`${KEY} ${path}: tls_server_config.${name} is not a file name`);
    return posix.resolve(posix.dirname(path), raw);
  };
  const certFile = file('cert_file');
  const keyFile = file('key_file');
  if (certFile === null || keyFile === null)
    throw new ConfigError(`${KEY} ${path}: tls_server_config needs cert_file and key_file`);
  const clientAuth = tls.client_auth_type ?? 'NoClientCert';
  if (typeof clientAuth !== 'string' || !CLIENT_AUTH.includes(clientAuth)) {
    throw new ConfigError(
      `${KEY} ${path}: tls_server_config.client_auth_type=${JSON.stringify(clientAuth)} is not supported; ` +
        `allowed: ${CLIENT_AUTH.join(', ')}`,
    );
  }
  const clientCaFile = file('client_ca_file');
  if ((clientAuth === 'RequireAndVerifyClientCert') !== (clientCaFile !== null)) {
    throw new ConfigError(`${KEY} ${path}: client_auth_type RequireAndVerifyClientCert and client_ca_file go together`);
  }
  const minVersion = MIN_VERSIONS[String(tls.min_version ?? 'TLS12')];
  if (minVersion === undefined) {
    throw new ConfigError(
      `${KEY} ${path}: tls_server_config.min_version=${JSON.stringify(tls.min_version)} is not supported; ` +
        `allowed: ${Object.keys(MIN_VERSIONS).join(', ')}`,
    );
  }
  return { certFile, keyFile, clientCaFile, minVersion };
}

async function readTls(host: Host, path: string, files: TlsFiles): Promise<TlsCredentials> {
  const cert = await readConfigFile(host, files.certFile, 'tls_server_config.cert_file');
  const key = await readConfigFile(host, files.keyFile, 'tls_server_config.key_file');
  const clientCa =
    files.clientCaFile === null
      ? null
      : await readConfigFile(host, files.clientCaFile, 'tls_server_config.client_ca_file');
  for (const [what, pem, marker] of [
    ['cert_file', cert, 'CERTIFICATE'],
    ['key_file', key, 'PRIVATE KEY'],
    ['client_ca_file', clientCa, 'CERTIFICATE'],
  ] as const) {
    if (pem !== null && !new RegExp(`-----BEGIN [A-Z ]*${marker}-----`).test(pem))
      throw new ConfigError(`${KEY} ${path}: tls_server_config.${what} holds no PEM ${marker.toLowerCase()}`);
  }
  return { cert, key, minVersion: files.minVersion, ...(clientCa === null ? {} : { clientCa }) };
}

async function readConfigFile(host: Host, file: string, what: string): Promise<string> {
  try {
    return await host.readText(file);
  } catch (error) {
    throw new ConfigError(`${KEY}: ${what} ${file} cannot be read: ${messageOf(error)}`);
  }
}

function parseYaml(text: string, path: string): unknown {
  try {
    return parse(text, { uniqueKeys: true, prettyErrors: false });
  } catch (error) {
    throw new ConfigError(`${KEY} ${path} is not valid YAML: ${messageOf(error).split('\n')[0]}`);
  }
}

function mapping(value: unknown, path: string, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${KEY} ${path}: ${what} is not a mapping`);
  return value as Record<string, unknown>;
}

function refuseUnknown(value: Record<string, unknown>, known: readonly string[], path: string, prefix: string): void {
  const unknown = Object.keys(value).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${KEY} ${path}: ${prefix}${unknown[0]} is not supported by ecs-host-agent; ` +
        `supported: ${known.map((name) => `${prefix}${name}`).join(', ')}`,
    );
  }
}

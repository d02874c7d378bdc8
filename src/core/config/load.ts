import { ConfigError } from '../errors.ts';
import { normalizeEcsValue } from './ecs-values.ts';
import { parseStrictEnv, valueProblem } from './env-file.ts';
import { isLoopbackAddress, KEYS, type KeyName } from './keys.ts';
import { checkEcsConfigEnvironment } from './limits.ts';
import { shownValue } from './secrets.ts';
import { formatDuration, InvalidValue, type Parse } from './values.ts';

export const DEFAULT_CONFIG_FILE = '/etc/ecs-host-agent/agent.env';

type Values = { readonly [K in KeyName]: ReturnType<(typeof KEYS)[K]['parse']> };

export interface Config extends Values {
  /** ECS_* keys for /etc/ecs/ecs.config, checked against what the ECS agent accepts (JSON made compact). */
  readonly ecsPassThrough: Readonly<Record<string, string>>;
  /** Where each value came from: "default", "environment", "--flag" or "file:line". */
  readonly origins: Readonly<Record<string, string>>;
}

export interface ConfigSources {
  /** Path of the config file, for messages. */
  readonly file: string;
  /** Its text, or null when it does not exist. */
  readonly fileText: string | null;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Values from command-line flags, by key, with the flag's name. */
  readonly flags: Readonly<Record<string, { readonly value: string; readonly flag: string }>>;
}

interface RawValue {
  readonly value: string;
  readonly origin: string;
}

/** Defaults < config file < environment < flags; every value validated, every error naming its origin. */
export function loadConfig(sources: ConfigSources): Config {
  const raw = new Map<string, RawValue>();
  for (const [name, spec] of Object.entries(KEYS)) raw.set(name, { value: spec.default, origin: 'default' });
  for (const entry of parseStrictEnv(sources.fileText ?? '', sources.file)) {
    if (!isKnownKey(entry.key)) throw unknownKey(`${sources.file}:${entry.line}`, entry.key);
    raw.set(entry.key, { value: entry.value, origin: `${sources.file}:${entry.line}` });
  }
  for (const [name, value] of Object.entries(sources.env)) {
    if (value === undefined || !isKnownKey(name) || isExportedFromFile(raw.get(name), value)) continue;
    raw.set(name, { value, origin: 'environment' });
  }
  for (const [name, { value, flag }] of Object.entries(sources.flags)) raw.set(name, { value, origin: flag });
  return build(raw);
}

/**
 * The unit reads agent.env with EnvironmentFile=, so systemd exports every key of it: an environment value
 * equal to the file's is that line, and errors name the line, not "environment". (The strict format makes
 * systemd read exactly the value this parser reads.)
 */
function isExportedFromFile(fromFile: RawValue | undefined, value: string): boolean {
  return fromFile !== undefined && fromFile.origin !== 'default' && fromFile.value === value;
}

/**
 * Keys the environment holds only because systemd exported them from the config file: on a reload the file,
 * read again, decides them (the environment keeps the values of when the unit started).
 */
export function keysExportedFromFile(config: Config, env: Readonly<Record<string, string | undefined>>): string[] {
  return Object.entries(config.origins)
    .filter(([name, origin]) => env[name] !== undefined && /:\d+$/.test(origin))
    .map(([name]) => name);
}

function build(raw: ReadonlyMap<string, RawValue>): Config {
  const values: Record<string, unknown> = {};
  const ecsPassThrough: Record<string, string> = {};
  const origins: Record<string, string> = {};
  for (const [name, { value, origin }] of raw) {
    origins[name] = origin;
    if (name in KEYS) values[name] = parseValue(name as KeyName, value, origin);
    else ecsPassThrough[name] = checkPassThrough(name, value, origin);
  }
  const config = { ...(values as Values), ecsPassThrough, origins };
  checkCombinations(config);
  checkEcsConfigEnvironment(config.ECS_CLUSTER, ecsPassThrough);
  return config;
}

function parseValue(name: KeyName, value: string, origin: string): unknown {
  return validated<unknown>(name, value, origin, KEYS[name].parse);
}

/** ECS agent keys are checked against what the agent accepts (JSON shapes, booleans, durations …). */
function checkPassThrough(name: string, value: string, origin: string): string {
  return validated(name, value, origin, (raw) => normalizeEcsValue(name, raw));
}

function validated<T>(name: string, value: string, origin: string, parse: Parse<T>): T {
  const problem = valueProblem(name, value);
  if (problem) throw invalid(origin, name, value, problem, 'a single-line value written bare');
  try {
    return parse(value);
  } catch (error) {
    if (error instanceof InvalidValue) throw invalid(origin, name, value, error.message, error.allowed);
    throw error;
  }
}

function checkCombinations(config: Config): void {
  if (config.STORAGE_MODE === 'btrfs-device' && config.STORAGE_DEVICE === null) {
    throw new ConfigError(
      `${config.origins.STORAGE_MODE}: STORAGE_MODE=btrfs-device needs STORAGE_DEVICE (a /dev path ` +
        `or an EBS volume id)`,
    );
  }
  checkRebootLockTtl(config);
  checkMetricsSinks(config);
}

/** What a reboot slot must outlast, end to end, should every renewal fail. */
export const REBOOT_SLOT_SPAN = ['DRAIN_TIMEOUT', 'REBOOT_TIMEOUT', 'REGISTRATION_TIMEOUT'] as const;

/**
 * A rebooting host renews its slot while it drains and while it waits for the ECS agent, but cannot while it
 * reboots, and renewals can fail for a while (throttling): the TTL covers the whole sequence, so that a slot is
 * never lost to another host mid-way. Checked where the agent reboots at all (REBOOT_POLICY other than never).
 */
function checkRebootLockTtl(config: Config): void {
  const span = REBOOT_SLOT_SPAN.reduce((sum, key) => sum + config[key], 0);
  if (config.REBOOT_POLICY === 'never' || config.REBOOT_LOCK_TTL > span) return;
  const parts = REBOOT_SLOT_SPAN.map((key) => `${key}=${formatDuration(config[key])} (${config.origins[key]})`);
  throw new ConfigError(
    `${config.origins.REBOOT_LOCK_TTL}: REBOOT_LOCK_TTL=${formatDuration(config.REBOOT_LOCK_TTL)} ` +
      `must be longer than ${parts.join(' + ')} = ${formatDuration(span)}: ` +
      'a rebooting host keeps its slot through the drain, the reboot and the wait for the ECS agent; ' +
      'raise REBOOT_LOCK_TTL or lower the others (REBOOT_POLICY=never: no check)',
  );
}

/** Remote write authenticates one way; the Prometheus page beyond loopback needs a web config. */
function checkMetricsSinks(config: Config): void {
  const authKeys = [
    'METRICS_REMOTE_WRITE_BEARER_TOKEN_FILE',
    'METRICS_REMOTE_WRITE_BASIC_AUTH_FILE',
    'METRICS_REMOTE_WRITE_SIGV4',
  ] as const;
  const remoteWriteAuth = authKeys.filter((name) => config[name] !== null && config[name] !== false);
  if (remoteWriteAuth.length > 1) {
    const set = remoteWriteAuth.map((name) => `${name} (${config.origins[name]})`).join(' and ');
    throw new ConfigError(`${set} are both set: remote write authenticates one way; keep one of them`);
  }
  const listen = config.METRICS_PROMETHEUS_LISTEN;
  if (listen !== null && !isLoopbackAddress(listen.address) && config.METRICS_PROMETHEUS_WEB_CONFIG === null) {
    throw new ConfigError(
      `${config.origins.METRICS_PROMETHEUS_LISTEN}: METRICS_PROMETHEUS_LISTEN is beyond loopback ` +
        `(${listen.address}) without ` +
        'METRICS_PROMETHEUS_WEB_CONFIG: anyone who reaches the port would read the page; set a web config file with ' +
        'basic_auth_users (and tls_server_config), or listen on a loopback address',
    );
  }
}

function isKnownKey(name: string): boolean {
  return name in KEYS || /^ECS_[A-Z0-9_]+$/.test(name);
}

function unknownKey(where: string, name: string): ConfigError {
  return new ConfigError(
    `${where}: unknown key ${name}; allowed: ${Object.keys(KEYS).join(', ')}, or ECS_* keys for /etc/ecs/ecs.config`,
  );
}

function invalid(origin: string, name: string, value: string, problem: string, allowed: string): ConfigError {
  return new ConfigError(`${origin}: ${name}=${shownValue(name, value)} ${problem}; allowed: ${allowed}`);
}

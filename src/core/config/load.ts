import { normalizeEcsValue } from '../../concerns/ecs-config/values.ts';
import { ConfigError } from '../errors.ts';
import { parseStrictEnv, valueProblem } from './env-file.ts';
import { KEYS, type KeyName } from './keys.ts';
import { checkEcsConfigEnvironment } from './limits.ts';
import { shownValue } from './secrets.ts';
import { InvalidValue, type Parse } from './values.ts';

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
      `${config.origins.STORAGE_MODE}: STORAGE_MODE=btrfs-device needs STORAGE_DEVICE (a /dev path or an EBS volume id)`,
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

import { InvalidValue } from './values.ts';
import { parseJson } from '../json.ts';

/**
 * Value checks for ECS agent keys. Each returns the value to write to
 * ecs.config (JSON re-serialised compact, anything else as given) or throws
 * InvalidValue naming what is allowed. The ECS agent itself logs a warning
 * and falls back to its default on a value it cannot parse, so a typo
 * silently does nothing on the host: these checks turn it into a config error.
 */
export type Check = (raw: string) => string;

export const trueOrFalse: Check = (raw) => {
  if (raw === 'true' || raw === 'false') return raw;
  // ecs-init compares some keys (ECS_ENABLE_GPU_SUPPORT) with "true" literally, so "True" or "1" would split the
  // readers.
  throw new InvalidValue('is not true or false', 'true or false, in lower case');
};

export function choice(choices: readonly string[]): Check {
  return (raw) => {
    if (choices.includes(raw)) return raw;
    throw new InvalidValue('is not one of the choices', choices.join(', '));
  };
}

export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): Check {
  const allowed =
    max === Number.MAX_SAFE_INTEGER ? `a whole number, at least ${min}` : `a whole number from ${min} to ${max}`;
  return (raw) => {
    if (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max) return raw;
    throw new InvalidValue('is not a whole number in range', allowed);
  };
}

/** Two whole numbers joined by a separator, such as the rate limits "40,60". */
export function numberPair(separator: string, example: string): Check {
  return (raw) => {
    const parts = raw.split(separator);
    if (parts.length === 2 && parts.every((part) => /^\d+$/.test(part))) return raw;
    throw new InvalidValue(
      `is not two whole numbers joined by "${separator}"`,
      `two whole numbers joined by "${separator}", e.g. ${example}`,
    );
  };
}

export const portRange: Check = (raw) => {
  const match = /^(\d+)-(\d+)$/.exec(raw);
  const [first, last] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (first >= 1 && first <= last && last <= 65535) return raw;
  throw new InvalidValue(
    'is not a port range',
    'two port numbers from 1 to 65535 joined by "-", the first not above the second, e.g. 32768-60999',
  );
};

const NANOSECONDS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
const DURATION = /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const DURATION_PART = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g;

/** Go's time.ParseDuration syntax ("1h30m", "500ms", "0"), without a sign: what the agent reads. */
function goDurationNanoseconds(raw: string): number | null {
  if (raw === '0') return 0;
  if (!DURATION.test(raw)) return null;
  let total = 0;
  for (const [, amount, unit] of raw.matchAll(DURATION_PART))
    total += Number(amount) * (NANOSECONDS[unit as string] as number);
  return total;
}

export interface DurationLimits {
  readonly min?: string;
  readonly max?: string;
}

/** A Go duration; limits are where the agent ignores or clamps the value (its README says which). */
export function goDuration(limits: DurationLimits = {}): Check {
  const range = [limits.min && `at least ${limits.min}`, limits.max && `at most ${limits.max}`]
    .filter(Boolean)
    .join(' and ');
  const allowed = `a duration such as 30s, 10m or 1h30m (units ns, us, ms, s, m, h)${range ? `, ${range}` : ''}`;
  const min = limits.min === undefined ? 0 : (goDurationNanoseconds(limits.min) as number);
  const max = limits.max === undefined ? Infinity : (goDurationNanoseconds(limits.max) as number);
  return (raw) => {
    const value = goDurationNanoseconds(raw);
    if (value === null) throw new InvalidValue('is not a duration', allowed);
    if (value < min || value > max) throw new InvalidValue('is a duration out of range', allowed);
    return raw;
  };
}

function jsonCheck(allowed: string, fits: (value: unknown) => boolean): Check {
  return (raw) => {
    // JSON.parse's reason quotes the input, and some values are secrets: it is not repeated.
    const value = parseJson(raw, () => {
      throw new InvalidValue('is not valid JSON', allowed);
    });
    if (!fits(value)) throw new InvalidValue('is JSON of the wrong shape', allowed);
    return JSON.stringify(value);
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';

export const jsonStringMap: Check = jsonCheck(
  'a JSON object of string values, e.g. {"stack":"prod"}',
  (value) => isObject(value) && Object.values(value).every(isString),
);

/** ECS limits tag keys to 128 and values to 256 characters. */
export const jsonTags: Check = jsonCheck(
  'a JSON object of string values, keys up to 128 and values up to 256 characters, e.g. {"team":"web"}',
  (value) =>
    isObject(value) && Object.entries(value).every(([k, v]) => k.length <= 128 && isString(v) && v.length <= 256),
);

export const jsonStringList: Check = jsonCheck(
  'a JSON array of strings, e.g. ["json-file","awslogs"]',
  (value) => Array.isArray(value) && value.every(isString),
);

export const jsonPortList: Check = jsonCheck(
  'a JSON array of port numbers from 1 to 65535, e.g. [22,80,5000]',
  (value) => Array.isArray(value) && value.every((port) => Number.isInteger(port) && port >= 1 && port <= 65535),
);

export const jsonCidrList: Check = jsonCheck(
  'a JSON array of CIDR blocks, e.g. ["10.0.15.0/24"]',
  (value) => Array.isArray(value) && value.every((cidr) => isString(cidr) && isCidr(cidr)),
);

/** node:net loads only for a CIDR list to check, not with the config every command reads. */
function isCidr(text: string): boolean {
  const [address = '', bits, ...rest] = text.split('/');
  const family = process.getBuiltinModule('node:net').isIP(address);
  const maxBits = family === 6 ? 128 : 32;
  return family !== 0 && rest.length === 0 && bits !== undefined && /^\d{1,3}$/.test(bits) && Number(bits) <= maxBits;
}

/** Registry → credentials object, the shape of both the "docker" and the "dockercfg" auth types. */
export const jsonRegistryAuth: Check = jsonCheck(
  'a JSON object mapping each registry to an object of credentials, e.g. ' +
    '{"https://index.docker.io/v1/":{"username":"u","password":"p"}}',
  (value) => isObject(value) && Object.keys(value).length > 0 && Object.values(value).every(isObject),
);

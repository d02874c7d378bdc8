/**
 * Value parsers for configuration keys. Each returns the typed value or throws
 * InvalidValue with what is allowed; the loader adds where the value came from.
 */
export class InvalidValue extends Error {
  readonly allowed: string;

  constructor(problem: string, allowed: string) {
    super(problem);
    this.allowed = allowed;
  }
}

export type Parse<T> = (raw: string) => T;

export function oneOf<const T extends string>(choices: readonly T[]): Parse<T> {
  return (raw) => {
    if ((choices as readonly string[]).includes(raw)) return raw as T;
    throw new InvalidValue('is not one of the choices', choices.join(', '));
  };
}

export function pattern(regex: RegExp, allowed: string): Parse<string> {
  return (raw) => {
    if (regex.test(raw)) return raw;
    throw new InvalidValue('has the wrong form', allowed);
  };
}

/** An empty value means "not set". */
export function optional<T>(parse: Parse<T>): Parse<T | null> {
  return (raw) => (raw === '' ? null : parse(raw));
}

/** "off" means "not at all". */
export function offOr<T>(parse: Parse<T>): Parse<T | null> {
  return (raw) => {
    if (raw === 'off') return null;
    try {
      return parse(raw);
    } catch (error) {
      if (error instanceof InvalidValue) throw new InvalidValue(error.message, `${error.allowed}, or off`);
      throw error;
    }
  };
}

const TRUE = ['yes', 'true', '1', 'on'];
const FALSE = ['no', 'false', '0', 'off'];

export const bool: Parse<boolean> = (raw) => {
  const lower = raw.toLowerCase();
  if (TRUE.includes(lower)) return true;
  if (FALSE.includes(lower)) return false;
  throw new InvalidValue('is not a boolean', 'yes or no (also true/false, 1/0, on/off)');
};

export function integer(min: number, max: number): Parse<number> {
  return (raw) => {
    const value = Number(raw);
    if (/^\d+$/.test(raw) && value >= min && value <= max) return value;
    throw new InvalidValue('is not a whole number in range', `a whole number from ${min} to ${max}`);
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "90s", "5m", "1h", "500ms" to milliseconds. */
export function duration(minMs: number, maxMs: number): Parse<number> {
  const allowed = `a number with a unit ms, s, m or h, from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`;
  return (raw) => {
    const match = /^(\d+)(ms|s|m|h)$/.exec(raw);
    const ms = match ? Number(match[1]) * (DURATION_UNITS[match[2] as string] as number) : NaN;
    if (ms >= minMs && ms <= maxMs) return ms;
    throw new InvalidValue('is not a duration in range', allowed);
  };
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** "100G" to bytes (binary units, as truncate and mkfs read them). */
export const size: Parse<number> = (raw) => {
  const match = /^(\d+)([KMGT]?)$/i.exec(raw);
  if (match) return Number(match[1]) * (SIZE_UNITS[(match[2] as string).toUpperCase()] as number);
  throw new InvalidValue('is not a size', 'a whole number of bytes with an optional K, M, G or T suffix, e.g. 100G');
};

export const httpUrl: Parse<string> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InvalidValue('is not a URL', 'an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new InvalidValue('is not an http(s) URL', 'an http:// or https:// URL');
  return raw.replace(/\/+$/, '');
};

export const absolutePath: Parse<string> = (raw) => {
  if (raw.startsWith('/') && !raw.split('/').includes('..')) return raw;
  throw new InvalidValue('is not an absolute path', 'an absolute path without ".." components');
};

export const region: Parse<string> = pattern(
  /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d+$/,
  'an AWS region name such as eu-west-1',
);

export const clusterName: Parse<string> = pattern(
  /^[A-Za-z0-9_-]{1,255}$/,
  'an ECS cluster name: 1 to 255 letters, digits, "-" or "_"',
);

/**
 * What Intl.DateTimeFormat accepts. Constructing one loads ICU's locale data,
 * about 20 ms at every start; the list of canonical zones costs under 2 ms, so
 * only a zone outside it (an alias such as US/Eastern) is checked the slow way.
 */
export const timeZone: Parse<string> = (raw) => {
  if (raw === 'UTC' || Intl.supportedValuesOf('timeZone').includes(raw)) return raw;
  try {
    new Intl.DateTimeFormat('en', { timeZone: raw });
    return raw;
  } catch {
    throw new InvalidValue('is not a time zone', 'an IANA time zone such as UTC or Europe/Berlin');
  }
};

import { ConfigError } from '../errors.ts';

/**
 * The strict `KEY=value` format shared by agent.env and /etc/ecs/ecs.config.
 * A line is accepted only when systemd's EnvironmentFile=, dotenv and ecs-init
 * would all read the same value from it; anything they read differently
 * (quotes, `export`, spaces around `=`, `#`, backslashes) is rejected here
 * rather than silently meaning different things to different readers.
 */
export interface EnvEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

const LINE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

/** Why a value cannot be written or read identically by every parser, or null when it can. */
export function strictValueProblem(value: string): string | null {
  if (/[\n\r\0]/.test(value)) return 'contains a newline, carriage return or NUL';
  if (value !== value.trim()) return 'has leading or trailing whitespace';
  if (/^["'`]/.test(value)) return 'starts with a quote (readers disagree on quote stripping: write the value bare)';
  if (value.includes('\\')) return 'contains a backslash (systemd treats it as an escape)';
  if (value.includes('#')) return 'contains "#" (dotenv treats it as a comment)';
  return null;
}

export function parseStrictEnv(text: string, source: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const where = `${source}:${line}`;
    const match = LINE.exec(raw);
    if (!match) throw new ConfigError(`${where}: ${JSON.stringify(raw)} is not KEY=value${hint(raw)}`);
    const [, key, value] = match as unknown as [string, string, string];
    const problem = strictValueProblem(value);
    if (problem) throw new ConfigError(`${where}: value of ${key} ${problem}`);
    const earlier = seen.get(key);
    if (earlier !== undefined) throw new ConfigError(`${where}: ${key} is already set on line ${earlier}; set each key once`);
    seen.set(key, line);
    entries.push({ key, value, line });
  });
  return entries;
}

function hint(raw: string): string {
  if (/^\s*export\s/.test(raw)) return ' (drop "export")';
  if (/^\s*[A-Za-z_][A-Za-z0-9_]*\s+=|=\s/.test(raw) && raw.includes('=')) return ' (no spaces around "=")';
  if (/^\s/.test(raw)) return ' (no leading whitespace)';
  return ' (keys are letters, digits and "_", not starting with a digit)';
}

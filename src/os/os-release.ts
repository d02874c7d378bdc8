import { AgentError } from '../core/errors.ts';

/**
 * Parser for os-release(5): KEY=value lines, values optionally in double or
 * single quotes, with \", \\, \$ and \` escapes inside double quotes. A line in
 * any other form is an error naming the line, not a silent guess.
 */
export class OsReleaseError extends AgentError {}

const LINE = /^([A-Z0-9_]+)=(.*)$/;

export function parseOsRelease(text: string, source: string): Record<string, string> {
  const fields: Record<string, string> = {};
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = LINE.exec(line);
    if (!match) throw new OsReleaseError(`${source}:${index + 1}: ${JSON.stringify(raw)} is not KEY=value`);
    fields[match[1] as string] = unquote(match[2] as string, `${source}:${index + 1}`);
  });
  return fields;
}

function unquote(value: string, where: string): string {
  const quote = value[0];
  if (quote !== '"' && quote !== "'") {
    if (/[\s"'`$\\]/.test(value))
      throw new OsReleaseError(`${where}: unquoted value ${JSON.stringify(value)} needs quotes`);
    return value;
  }
  if (value.length < 2 || !value.endsWith(quote)) throw new OsReleaseError(`${where}: unterminated quote in ${value}`);
  const inner = value.slice(1, -1);
  return quote === '"' ? inner.replace(/\\(["\\$`])/g, '$1') : inner;
}

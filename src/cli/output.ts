import type { TextSink } from '../host/stdio.ts';
import type { FlagValues } from './command.ts';

export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: TextSink;
  readonly stderr: TextSink;
}

/** What every command gets: data to stdout, as text or (--json) as JSON. */
export interface Output {
  readonly json: boolean;
  out(text: string): void;
}

export function createOutput(flags: FlagValues, environment: Environment): Output {
  return {
    json: flags.json === true,
    out: (text) => environment.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  };
}

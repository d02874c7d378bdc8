import type { Action } from '../../core/concern.ts';
import { PATHS } from '../../core/paths.ts';
import { assignedKey, holdsEngineAuthData, readersDisagree, rewriteEcsConfig, shownLine, splitLines } from './file.ts';
import { MANAGED_KEYS_FILE } from './state.ts';

export interface EcsConfigFacts {
  /** The file's text, or null when there is none. */
  readonly text: string | null;
  readonly mode: number | null;
  /** Keys the agent wrote on its last run (the state record). */
  readonly managedKeys: readonly string[];
}

export interface WriteEcsConfig extends Action {
  readonly kind: 'write';
  readonly text: string;
  readonly mode: number;
  /** `plan --json` and `apply --json` print actions: the text may hold registry credentials, `details` shows it redacted. */
  toJSON(): Omit<WriteEcsConfig, 'text' | 'toJSON'>;
}

export interface RecordManagedKeys extends Action {
  readonly kind: 'record';
  readonly keys: readonly string[];
}

export type EcsConfigAction = WriteEcsConfig | RecordManagedKeys;

const NEW_FILE_MODE = 0o644;
/** Registry credentials are for root only; without them an existing file keeps its mode. */
const CREDENTIALS_MODE = 0o600;

export function planEcsConfig(facts: EcsConfigFacts, managed: ReadonlyMap<string, string>): EcsConfigAction[] {
  const released = new Set(facts.managedKeys.filter((key) => !managed.has(key)));
  const text = rewriteEcsConfig({ existing: facts.text ?? '', managed, released });
  const mode = holdsEngineAuthData(text) ? CREDENTIALS_MODE : (facts.mode ?? NEW_FILE_MODE);
  const actions: EcsConfigAction[] = [];
  if (text !== facts.text || mode !== facts.mode) actions.push(writeAction(facts, text, mode));
  const keys = [...managed.keys()];
  if (!sameKeys(keys, facts.managedKeys)) {
    actions.push({ kind: 'record', keys, summary: `record in ${MANAGED_KEYS_FILE} the keys the agent manages: ${keys.join(', ')}` });
  }
  return actions;
}

/** Hand-written lines the agent keeps as they are, though systemd and ecs-init read them differently. */
export function warnEcsConfig(facts: EcsConfigFacts, managed: ReadonlyMap<string, string>): string[] {
  return splitLines(facts.text ?? '').flatMap((line, index) => {
    const key = assignedKey(line);
    const handWritten = key !== null && !managed.has(key) && !facts.managedKeys.includes(key);
    const problem = handWritten ? readersDisagree(line) : null;
    return problem ? [`${PATHS.ecsConfig}:${index + 1}: ${key} ${problem}; write it as ${key}=value, or set it in agent.env`] : [];
  });
}

function writeAction(facts: EcsConfigFacts, text: string, mode: number): WriteEcsConfig {
  const verb = facts.text === null ? 'create' : 'update';
  const modeNote = mode === facts.mode ? '' : ` (mode ${octal(mode)}${facts.mode === null ? '' : `, was ${octal(facts.mode)}`})`;
  const printable = { kind: 'write', mode, summary: `${verb} ${PATHS.ecsConfig}${modeNote}`, details: lineChanges(facts.text ?? '', text) } as const;
  return { ...printable, text, toJSON: () => printable };
}

/** Lines removed and added, secrets redacted: what `plan` shows of the rewrite. */
function lineChanges(before: string, after: string): string[] {
  const [old, next] = [splitLines(before), splitLines(after)];
  return [...missingFrom(next, old).map((line) => `- ${shownLine(line)}`), ...missingFrom(old, next).map((line) => `+ ${shownLine(line)}`)];
}

/** The lines of `lines` that `others` lacks, counting repeats. */
function missingFrom(others: readonly string[], lines: readonly string[]): string[] {
  const pool = [...others];
  return lines.filter((line) => {
    const index = pool.indexOf(line);
    if (index >= 0) pool.splice(index, 1);
    return index < 0;
  });
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key) => b.includes(key));
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

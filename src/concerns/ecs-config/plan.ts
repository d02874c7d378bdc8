import type { StepAction } from '../../core/concern.ts';
import { writeStep } from '../../core/step.ts';
import { PATHS } from '../../core/paths.ts';
import { hazards, keyDisagreement, readAll, type Readings, variableNames } from './analysis.ts';
import { emptyDefaultWarnings } from './ecs-init-defaults.ts';
import { splitLines } from '../../core/config/text.ts';
import { assignedKey, holdsSecrets, readersDisagree, type Rewrite, shownLine } from './file.ts';
import { chooseLayout, type Layout } from './layout.ts';
import { OLDEST_MODELLED, SYSTEMD_VERSIONS } from './readers.ts';
import { formatManagedKeys, MANAGED_KEYS_FILE } from './state.ts';
import { type SystemdVersion, systemdLabel, versionsToCheck } from './systemd-version.ts';

export interface EcsConfigFacts {
  /** The file's text (decoded losslessly: invalid bytes kept), or null when there is none. */
  readonly text: string | null;
  readonly mode: number | null;
  /** Keys the agent wrote on its last run (the state record). */
  readonly managedKeys: readonly string[];
  /** The systemd that reads the file with EnvironmentFile=. */
  readonly systemd: SystemdVersion;
}

/** The file may hold registry credentials: its write step shows them redacted, `--json` included. */
export type EcsConfigAction = StepAction<'write' | 'record'>;

const NEW_FILE_MODE = 0o644;
/** Secrets (registry credentials) are for root only; without them an existing file keeps its mode. */
const CREDENTIALS_MODE = 0o600;
const FILE = PATHS.ecsConfig;

function rewriteOf(facts: EcsConfigFacts, managed: ReadonlyMap<string, string>): Rewrite {
  return {
    existing: facts.text ?? '',
    managed,
    released: new Set(facts.managedKeys.filter((key) => !managed.has(key))),
  };
}

/** Throws a ConfigError, changing nothing, when no placement of the managed keys reads alike to every reader. */
export function planEcsConfig(facts: EcsConfigFacts, managed: ReadonlyMap<string, string>): EcsConfigAction[] {
  const layout = chooseLayout(rewriteOf(facts, managed), versionsToCheck(facts.systemd));
  const { text } = layout;
  const mode = holdsSecrets(text) ? CREDENTIALS_MODE : (facts.mode ?? NEW_FILE_MODE);
  const actions: EcsConfigAction[] = [];
  if (text !== facts.text || mode !== facts.mode) actions.push(writeAction(facts, layout, mode, managed));
  const keys = [...managed.keys()];
  if (!sameKeys(keys, facts.managedKeys)) {
    const before = facts.managedKeys.length === 0 ? null : formatManagedKeys(facts.managedKeys);
    actions.push({
      kind: 'record',
      summary: `record in ${MANAGED_KEYS_FILE} the keys the agent manages: ${keys.join(', ')}`,
      steps: [writeStep(MANAGED_KEYS_FILE, formatManagedKeys(keys), { mode: 0o644, before })],
    });
  }
  return actions;
}

/**
 * What the operator must know about the file as it will be: which systemd reads
 * it, the named hazards in hand-written lines with what each reader makes of
 * them, hand-written keys the readers read differently, lines that set nothing,
 * and empty values that switch off an ecs-init default.
 */
export function warnEcsConfig(facts: EcsConfigFacts, managed: ReadonlyMap<string, string>): string[] {
  const versions = versionsToCheck(facts.systemd);
  const existing = readAll(facts.text ?? '', versions);
  const readings = layoutOrNull(facts, managed, versions)?.readings ?? existing;
  return [
    ...versionWarnings(facts.systemd),
    ...new Set([...hazards(existing), ...hazards(readings)]),
    ...handWrittenDisagreements(readings, managed),
    ...exportLines(readings.text, managed),
    ...emptyDefaultWarnings(readings.ecsInit, FILE),
  ];
}

function layoutOrNull(
  facts: EcsConfigFacts,
  managed: ReadonlyMap<string, string>,
  versions: readonly number[],
): Layout | null {
  try {
    return chooseLayout(rewriteOf(facts, managed), versions);
  } catch {
    return null;
  }
}

function versionWarnings(systemd: SystemdVersion): string[] {
  const modelled = SYSTEMD_VERSIONS.map((entry) => entry.version);
  if (systemd.version !== null && systemd.version >= OLDEST_MODELLED) return [];
  const why =
    systemd.version === null
      ? `which systemd reads ${FILE} is ${systemd.evidence}`
      : `${systemd.evidence} is older than the versions modelled`;
  return [`${why}: the file is checked against every modelled version (${systemdLabel(modelled)})`];
}

function handWrittenDisagreements(readings: Readings, managed: ReadonlyMap<string, string>): string[] {
  const lines = splitLines(readings.text);
  return variableNames(readings)
    .filter((key) => !managed.has(key))
    .flatMap((key) => {
      const disagreement = keyDisagreement(readings, key);
      if (disagreement === null) return [];
      const index = lines.findLastIndex((line) => assignedKey(line) === key);
      const where = index < 0 ? FILE : `${FILE}:${index + 1}`;
      const reason = index < 0 ? null : readersDisagree(lines[index] as string);
      return [
        `${where}: ${key}: ${disagreement}${reason ? `, as the line ${reason}` : ''}; ` +
          'write it as plain NAME=value, or set it in agent.env',
      ];
    });
}

function exportLines(text: string, managed: ReadonlyMap<string, string>): string[] {
  return splitLines(text).flatMap((line, index) => {
    const key = assignedKey(line);
    if (key === null || managed.has(key) || !/^\s*export\s/.test(line)) return [];
    return [
      `${FILE}:${index + 1}: ${key}: ${readersDisagree(line)}; write it as plain NAME=value, or set it in agent.env`,
    ];
  });
}

function writeAction(
  facts: EcsConfigFacts,
  layout: Layout,
  mode: number,
  managed: ReadonlyMap<string, string>,
): EcsConfigAction {
  const verb = facts.text === null ? 'create' : 'update';
  const modeNote =
    mode === facts.mode ? '' : ` (mode ${octal(mode)}${facts.mode === null ? '' : `, was ${octal(facts.mode)}`})`;
  const summary = `${verb} ${FILE}${modeNote}${placementNote(layout, managed)}${guardNote(layout, managed)}`;
  const write = writeStep(FILE, layout.text, { mode, before: facts.text, show: shownLine });
  return { kind: 'write', summary, steps: [write] };
}

/** Why the managed keys are not in their usual places, when the readers would not have read them alike there. */
function placementNote(layout: Layout, managed: ReadonlyMap<string, string>): string {
  if (layout.placement.kind === 'in-place') return '';
  const first = [...managed.keys()][0] as string;
  const line = splitLines(layout.text).findIndex((text) => text.startsWith(`${first}=`)) + 1;
  return (
    `; the managed keys are written together from line ${line}: in their usual places hand-written lines would keep ` +
    `${systemdLabel(layout.readings.versions)} and ecs-init from reading them alike`
  );
}

/** Empty lines the rewrite put between a line ending in "\" and a managed line, so systemd does not join them. */
function guardNote(layout: Layout, managed: ReadonlyMap<string, string>): string {
  const lines = splitLines(layout.text);
  const guarded = lines.flatMap((line, index) => {
    const next = assignedKey(lines[index + 1] ?? '');
    return line === '' && (lines[index - 1] ?? '').endsWith('\\') && next !== null && managed.has(next) ? [index] : [];
  });
  if (guarded.length === 0) return '';
  const where = guarded.map((index) => `line ${index}`).join(', ');
  return `; an empty line after ${where}, which ends in "\\", keeps systemd from joining the next line onto it`;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key) => b.includes(key));
}

function octal(mode: number): string {
  return `0${mode.toString(8)}`;
}

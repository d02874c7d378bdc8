import { redactedLine, shownValue } from '../../core/config/secrets.ts';
import { quoted } from '../../core/config/text.ts';
import { PATHS } from '../../core/paths.ts';
import { type LineStart, readAsEcsInit, readAsSystemd, type SystemdReading } from './readers.ts';
import { systemdLabel } from './systemd-version.ts';

/**
 * What each reader makes of one ecs.config text, and the named reasons where
 * they part: the lines one hides from the other (NUL, CR, invalid UTF-8, a line
 * ending in "\", an open quote, a comment ending in "\" before systemd v254).
 */
export interface Readings {
  readonly text: string;
  readonly versions: readonly number[];
  readonly systemd: ReadonlyMap<number, SystemdReading>;
  readonly ecsInit: ReadonlyMap<string, string>;
}

export function readAll(text: string, versions: readonly number[]): Readings {
  return {
    text,
    versions,
    systemd: new Map(versions.map((version) => [version, readAsSystemd(text, version)])),
    ecsInit: readAsEcsInit(text),
  };
}

const FILE = PATHS.ecsConfig;

/** Why the readers do not all read `key` as `expected` (or alike, without one), or null when they do. */
export function keyDisagreement(readings: Readings, key: string, expected?: string): string | null {
  const wanted = expected ?? readings.ecsInit.get(key);
  const systemdValues = readings.versions.map((version) => ({ version, value: systemdValue(readings, version, key) }));
  const ecsInitValue = readings.ecsInit.get(key);
  const agreed = ecsInitValue === wanted && systemdValues.every(({ value }) => value === wanted);
  if (agreed) return null;
  const groups = groupByValue(systemdValues);
  const systemd = groups.map(
    ({ versions, value }) => `${systemdLabel(versions)} ${shownReading(readings, versions[0] as number, key, value)}`,
  );
  return `${systemd.join(', ')}, ecs-init ${shownReading(readings, null, key, ecsInitValue)}`;
}

function systemdValue(readings: Readings, version: number, key: string): string | undefined {
  return readings.systemd.get(version)?.variables.get(key);
}

function shownReading(readings: Readings, version: number | null, key: string, value: string | undefined): string {
  if (value !== undefined) return `reads ${shownValue(key, value)}`;
  return version !== null && readings.systemd.get(version)?.refused
    ? 'reads nothing (it refuses the whole file)'
    : 'reads nothing';
}

function groupByValue(
  values: readonly { version: number; value: string | undefined }[],
): { versions: number[]; value: string | undefined }[] {
  const groups: { versions: number[]; value: string | undefined }[] = [];
  for (const { version, value } of values) {
    const last = groups.at(-1);
    if (last && last.value === value) last.versions.push(version);
    else groups.push({ versions: [version], value });
  }
  return groups;
}

/** Every key either reader sets that is a variable name (what the agent can get), sorted. */
export function variableNames(readings: Readings): string[] {
  const names = new Set(readings.ecsInit.keys());
  for (const reading of readings.systemd.values()) for (const key of reading.variables.keys()) names.add(key);
  return [...names].filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)).sort();
}

/** The named hazards in the text, each "FILE:LINE: what it is: what systemd and ecs-init do with it". */
export function hazards(readings: Readings): string[] {
  return [
    ...fileRefusals(readings),
    ...bomHazard(readings.text),
    ...crHazards(readings.text),
    ...swallowedLines(readings),
    ...droppedAssignments(readings),
  ];
}

function fileRefusals(readings: Readings): string[] {
  const refusals = new Map<string, number[]>();
  for (const version of readings.versions) {
    const refused = readings.systemd.get(version)?.refused;
    if (refused)
      refusals.set(`${FILE}:${refused.line}: ${refused.what}`, [
        ...(refusals.get(`${FILE}:${refused.line}: ${refused.what}`) ?? []),
        version,
      ]);
  }
  return [...refusals].map(
    ([where, versions]) =>
      `${where}: ${systemdLabel(versions)} refuses the whole file, so ecs.service starts with none of its settings ` +
      '(silently: the unit reads it with "-"), while ecs-init reads on',
  );
}

function bomHazard(text: string): string[] {
  if (!text.startsWith('\ufeff')) return [];
  return [
    `${FILE}:1: BOM (U+FEFF, byte order mark) at the start: both readers take it as part of the first key, ` +
      'which then sets nothing',
  ];
}

function crHazards(text: string): string[] {
  return text.split('\n').flatMap((line, index) => {
    const cr = line.indexOf('\r');
    if (cr < 0 || cr === line.length - 1) return [];
    const [first, ...rest] = line.split('\r');
    return [
      `${FILE}:${index + 1}: CR (carriage return) inside the line: systemd starts a new line there and reads ` +
        `${[first, ...rest].map(shownPiece).join(' and ')} as separate lines, ecs-init reads one line`,
    ];
  });
}

function shownPiece(piece: string | undefined): string {
  return quoted(redactedLine(piece ?? ''));
}

const CONSTRUCTS: Readonly<Record<Exclude<LineStart['kind'], 'own'>, string>> = {
  comment: 'a comment ending in "\\", which systemd before v254 continues onto the next line',
  'escaped-newline': 'a line ending in "\\", which systemd joins with the next line',
  'single-quote': 'an open single quote, which systemd reads on to the next "\'" or the end of the file',
  'double-quote': "an open double quote, which systemd reads on to the next '\"' or the end of the file",
};

/** Lines systemd does not read as lines of their own (blank ones hide nothing and are not named). */
function swallowedLines(readings: Readings): string[] {
  const lines = readings.text.split('\n');
  const found = new Map<
    string,
    { from: number; kind: Exclude<LineStart['kind'], 'own'>; lines: number[]; versions: number[] }
  >();
  for (const version of readings.versions) {
    readings.systemd.get(version)?.lineStarts.forEach((start, index) => {
      if (start.kind === 'own' || (lines[index] ?? '').trim() === '') return;
      const id = `${start.from}:${start.kind}`;
      const entry = found.get(id) ?? { from: start.from, kind: start.kind, lines: [], versions: [] };
      if (!entry.lines.includes(index + 1)) entry.lines.push(index + 1);
      if (!entry.versions.includes(version)) entry.versions.push(version);
      found.set(id, entry);
    });
  }
  return [...found.values()].map(({ from, kind, lines: hidden, versions }) => {
    const range = hidden.length === 1 ? `line ${hidden[0]}` : `lines ${hidden[0]} to ${hidden.at(-1)}`;
    const readers = `${systemdLabel(versions)} reads ${range} as part of line ${from}, ecs-init as lines of their own`;
    return `${FILE}:${from}: ${CONSTRUCTS[kind]}: ${readers}`;
  });
}

/** Assignments systemd parses but then drops from the unit's environment, though their names are variable names. */
function droppedAssignments(readings: Readings): string[] {
  const seen = new Map<string, number[]>();
  for (const version of readings.versions) {
    for (const dropped of readings.systemd.get(version)?.dropped ?? []) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(dropped.key)) continue;
      const where = `${FILE}:${dropped.firstLine}: ${dropped.key}`;
      const id = `${where}: systemd drops it from the unit's environment (${dropped.why})`;
      seen.set(id, [...(seen.get(id) ?? []), version]);
    }
  }
  return [...seen].map(([id, versions]) => id.replace('systemd drops', `${systemdLabel(versions)} drops`));
}

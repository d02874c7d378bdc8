import { InvalidValue } from './values.ts';

/** A weekly maintenance window such as "Sat,Sun 02:00-04:00" or "Mon-Fri 23:30-01:00". */
export interface MaintenanceWindow {
  /** 0 = Sunday … 6 = Saturday: the days the window starts on. */
  readonly days: readonly number[];
  readonly startMinute: number;
  readonly endMinute: number;
  readonly text: string;
}

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const ALLOWED =
  'days then a time range, e.g. "Sat,Sun 02:00-04:00", "Mon-Fri 23:30-01:00" or "* 03:00-05:00" ' +
  '(days Sun..Sat, 24-hour times)';

export function parseWindow(raw: string): MaintenanceWindow {
  const match = /^(\S+) (\d\d:\d\d)-(\d\d:\d\d)$/.exec(raw);
  if (!match) throw new InvalidValue('is not a maintenance window', ALLOWED);
  const [, dayList, start, end] = match as unknown as [string, string, string, string];
  const startMinute = minuteOfDay(start);
  const endMinute = minuteOfDay(end);
  if (startMinute === endMinute) throw new InvalidValue('is an empty window', ALLOWED);
  return { days: parseDays(dayList), startMinute, endMinute, text: raw };
}

function minuteOfDay(hhmm: string): number {
  const [hours, minutes] = hhmm.split(':').map(Number) as [number, number];
  if (hours > 23 || minutes > 59) throw new InvalidValue(`has an impossible time ${hhmm}`, ALLOWED);
  return hours * 60 + minutes;
}

function parseDays(list: string): number[] {
  if (list === '*') return [0, 1, 2, 3, 4, 5, 6];
  const days = new Set<number>();
  for (const item of list.split(',')) {
    const ends = item.split('-');
    if (ends.length > 2) throw new InvalidValue(`has a bad day range "${item}"`, ALLOWED);
    const [from, to = from] = ends.map((name) => dayIndex(name)) as [number, number?];
    for (let day = from; ; day = (day + 1) % 7) {
      days.add(day);
      if (day === to) break;
    }
  }
  return [...days].sort();
}

function dayIndex(name: string): number {
  const index = DAY_NAMES.findIndex((day) => day.toLowerCase() === name.toLowerCase());
  if (index < 0) throw new InvalidValue(`has an unknown day "${name}"`, ALLOWED);
  return index;
}

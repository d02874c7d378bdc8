import type { MaintenanceWindow } from '../../core/config/window.ts';

/**
 * Whether a moment falls inside the weekly maintenance window, read on the
 * wall clock of the window's time zone. A window whose end is before its start
 * runs past midnight into the next day ("Sat 23:00-01:00" is Saturday 23:00 to
 * Sunday 01:00). Wall-clock times follow DST: on the night clocks go forward a
 * window inside the skipped hour does not happen; when they go back, the
 * repeated hour is inside both times.
 */
export function isInsideWindow(window: MaintenanceWindow, timeZone: string, at: Date): boolean {
  const { day, minute } = wallClock(at, timeZone);
  const { days, startMinute, endMinute } = window;
  if (startMinute < endMinute) return days.includes(day) && minute >= startMinute && minute < endMinute;
  return (days.includes(day) && minute >= startMinute) || (days.includes((day + 6) % 7) && minute < endMinute);
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function wallClock(at: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const part = (type: string) => parts.find((candidate) => candidate.type === type)?.value ?? '';
  return { day: WEEKDAYS.indexOf(part('weekday')), minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

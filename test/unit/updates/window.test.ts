import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isInsideWindow } from '../../../src/concerns/updates/window.ts';
import { parseWindow } from '../../../src/core/config/window.ts';

const inside = (window: string, timeZone: string, iso: string) =>
  isInsideWindow(parseWindow(window), timeZone, new Date(iso));

test('a window on one day: start inclusive, end exclusive, other days outside', () => {
  assert.equal(inside('Sun 03:00-05:00', 'UTC', '2026-11-22T03:00:00Z'), true, 'Sunday 03:00');
  assert.equal(inside('Sun 03:00-05:00', 'UTC', '2026-11-22T04:59:59Z'), true);
  assert.equal(inside('Sun 03:00-05:00', 'UTC', '2026-11-22T05:00:00Z'), false);
  assert.equal(inside('Sun 03:00-05:00', 'UTC', '2026-11-22T02:59:00Z'), false);
  assert.equal(inside('Sun 03:00-05:00', 'UTC', '2026-11-23T03:30:00Z'), false, 'Monday');
});

test('a window across midnight belongs to the day it starts on', () => {
  const window = 'Sat 23:00-01:00';
  assert.equal(inside(window, 'UTC', '2026-11-21T23:30:00Z'), true, 'Saturday 23:30');
  assert.equal(inside(window, 'UTC', '2026-11-22T00:30:00Z'), true, "Sunday 00:30, still Saturday's window");
  assert.equal(inside(window, 'UTC', '2026-11-22T01:00:00Z'), false);
  assert.equal(inside(window, 'UTC', '2026-11-22T23:30:00Z'), false, 'Sunday 23:30 starts no window');
  assert.equal(inside(window, 'UTC', '2026-11-21T00:30:00Z'), false, 'Saturday 00:30 belongs to Friday');
  assert.equal(
    inside('Mon-Fri 23:30-01:00', 'UTC', '2026-11-21T00:15:00Z'),
    true,
    'Saturday 00:15 ends ' + "Friday's window",
  );
});

test('the window is read on the wall clock of its time zone', () => {
  // 2026-11-22 is a Sunday; 03:30 in Berlin (UTC+1 in winter) is 02:30 UTC.
  assert.equal(inside('Sun 03:00-05:00', 'Europe/Berlin', '2026-11-22T02:30:00Z'), true);
  assert.equal(inside('Sun 03:00-05:00', 'Europe/Berlin', '2026-11-22T03:30:00Z'), true);
  assert.equal(inside('Sun 03:00-05:00', 'Europe/Berlin', '2026-11-22T04:30:00Z'), false);
  // Sunday 01:00 UTC is Saturday 20:00 in New York.
  assert.equal(inside('Sat 19:00-21:00', 'America/New_York', '2026-11-22T01:00:00Z'), true);
});

test(
  'DST: spring forward skips a window inside the missing hour; fall back repeats the hour, both ' + 'times inside',
  () => {
    // Berlin, 2026-03-29 (a Sunday): 02:00 CET jumps to 03:00 CEST, at 01:00 UTC.
    assert.equal(inside('Sun 02:00-03:00', 'Europe/Berlin', '2026-03-29T00:59:00Z'), false, '01:59 CET');
    assert.equal(inside('Sun 02:00-03:00', 'Europe/Berlin', '2026-03-29T01:00:00Z'), false, 'already 03:00 CEST');
    assert.equal(
      inside('Sun 03:00-05:00', 'Europe/Berlin', '2026-03-29T01:00:00Z'),
      true,
      '03:00 CEST opens the window',
    );
    assert.equal(inside('Sun 03:00-05:00', 'Europe/Berlin', '2026-03-29T02:59:00Z'), true, '04:59 CEST');
    // Berlin, 2026-10-25 (a Sunday): 03:00 CEST falls back to 02:00 CET, at 01:00 UTC.
    assert.equal(inside('Sun 02:00-03:00', 'Europe/Berlin', '2026-10-25T00:30:00Z'), true, '02:30 CEST');
    assert.equal(
      inside('Sun 02:00-03:00', 'Europe/Berlin', '2026-10-25T01:30:00Z'),
      true,
      '02:30 CET, the repeated hour',
    );
    assert.equal(inside('Sun 02:00-03:00', 'Europe/Berlin', '2026-10-25T02:00:00Z'), false, '03:00 CET');
  },
);

test('every day, across midnight, in a zone east of UTC', () => {
  assert.equal(inside('* 22:00-02:00', 'Asia/Tokyo', '2026-11-22T16:30:00Z'), true, '01:30 in Tokyo');
  assert.equal(inside('* 22:00-02:00', 'Asia/Tokyo', '2026-11-22T18:00:00Z'), false, '03:00 in Tokyo');
});

import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { parseCpuTimes } from '../../../src/metrics/proc.ts';
import { scratchDir } from '../../support/scratch.ts';

/** Clock ticks since boot of all CPUs, all states: grows whenever time passes. */
function ticks(stat: string): number {
  return Object.values(parseCpuTimes(stat)).reduce((sum, value) => sum + value, 0);
}

test(
  "a kept-open /proc/stat read again from offset 0 shows the kernel's current counters, not the " + "first read's",
  async (t) => {
    const reader = await new RealHost('/').openReader('/proc/stat');
    t.after(() => reader.close());
    const first = ticks(await reader.read());
    let moved = first;
    while (moved === first) moved = ticks(await readFile('/proc/stat', 'utf8')); // a tick is 10 ms: this ends
    const second = ticks(await reader.read());
    assert.ok(
      second >= moved,
      `second read ${second} ticks, the kernel had moved on to ${moved} (first read ${first})`,
    );
  },
);

test(
  'a /proc file of many pages (kallsyms, several MB) is read whole, twice, through the growing ' + 'buffer',
  async (t) => {
    const reader = await new RealHost('/').openReader('/proc/kallsyms');
    t.after(() => reader.close());
    const expected = await readFile('/proc/kallsyms', 'utf8');
    assert.ok(expected.length > 1024 * 1024, 'kallsyms spans many seq_file pages');
    assert.equal(await reader.read(), expected);
    assert.equal(await reader.read(), expected, 'read again from offset 0 after reading to the end');
  },
);

test(
  'under an image root the reader opens the file below the root; concurrent reads each get the ' + 'whole file',
  async (t) => {
    const root = scratchDir(t);
    mkdirSync(join(root, 'proc'));
    const text = 'x'.repeat(40_000);
    writeFileSync(join(root, 'proc', 'loadavg'), text);
    const reader = await new RealHost(root).openReader('/proc/loadavg');
    t.after(() => reader.close());
    assert.deepEqual(await Promise.all([reader.read(), reader.read(), reader.read()]), [text, text, text]);
    writeFileSync(join(root, 'proc', 'loadavg'), 'short\n'); // same inode, rewritten in place
    assert.equal(await reader.read(), 'short\n');
  },
);

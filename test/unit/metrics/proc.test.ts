import assert from 'node:assert/strict';
import { test } from 'node:test';

import { cpuPercent } from '../../../src/metrics/cpu.ts';
import {
  countProcesses,
  parseCpuTimes,
  parseLoadavg,
  parseMeminfo,
  parseMounts,
  parseNetDev,
} from '../../../src/metrics/proc.ts';

const STAT = 'cpu  100 10 50 800 20 5 5 10 0 0\ncpu0 50 5 25 400 10 2 3 5 0 0\nintr 1 2 3\n';

test('the cpu line of /proc/stat gives ticks per mode, and percentages over a delta', () => {
  const before = parseCpuTimes(STAT);
  assert.deepEqual(before, { user: 100, nice: 10, system: 50, idle: 800, iowait: 20, irq: 5, softirq: 5, steal: 10 });
  const after = parseCpuTimes('cpu  150 10 70 900 40 5 5 20 0 0\n');
  assert.deepEqual(cpuPercent(before, after), {
    user: 25,
    nice: 0,
    system: 10,
    idle: 50,
    waitio: 10,
    steal: 5,
    irq: 0,
  });
  assert.equal(cpuPercent(before, before).idle, 0, 'no ticks elapsed: zeros, not NaN');
  assert.throws(() => parseCpuTimes('intr 1 2\n'), /cpu line/);
});

test('/proc/meminfo becomes bytes; used is what free(1) shows', () => {
  const text = [
    'MemTotal:       16000000 kB',
    'MemFree:         2000000 kB',
    'MemAvailable:    9000000 kB',
    'Buffers:          500000 kB',
    'Cached:          6000000 kB',
    'SwapCached:            0 kB',
    'SReclaimable:     300000 kB',
    'SwapTotal:       1000000 kB',
    'SwapFree:         400000 kB',
    '',
  ].join('\n');
  const memory = parseMeminfo(text);
  assert.equal(memory.total, 16_000_000 * 1024);
  assert.equal(memory.cached, 6_300_000 * 1024);
  assert.equal(memory.used, (16_000_000 - 2_000_000 - 500_000 - 6_300_000) * 1024);
  assert.equal(memory.swapUsed, 600_000 * 1024);
  assert.throws(() => parseMeminfo('MemTotal: 1 kB\n'), /no MemFree/);
});

test('load averages, processes from /proc names, network counters without loopback', () => {
  assert.deepEqual(parseLoadavg('0.52 0.40 0.31 2/512 12345\n'), { load1: 0.52, load5: 0.4, load15: 0.31 });
  assert.throws(() => parseLoadavg('x'), /three load averages/);
  assert.equal(countProcesses(['1', '42', 'self', 'stat', '999', 'net']), 3);
  const dev = [
    'Inter-|   Receive                                                |  Transmit',
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop ' +
      'fifo colls carrier compressed',
    '    lo: 100 1 0 0 0 0 0 0 100 1 0 0 0 0 0 0',
    '  eth0: 5000 40 1 2 0 0 0 0 3000 30 3 4 0 0 0 0',
  ].join('\n');
  assert.deepEqual(parseNetDev(dev), [
    {
      name: 'eth0',
      rxBytes: 5000,
      rxPackets: 40,
      rxErrors: 1,
      rxDropped: 2,
      txBytes: 3000,
      txPackets: 30,
      txErrors: 3,
      txDropped: 4,
    },
  ]);
});

test('mount entries decode octal escapes', () => {
  assert.deepEqual(parseMounts('/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n'), [
    { device: '/dev/sdb1', mount: '/mnt/my disk', fsType: 'ext4' },
  ]);
});

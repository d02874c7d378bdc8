/**
 * The host facts of this machine as the reader gives them, against the
 * system's own tools: the shell sourcing /etc/os-release, uname, getconf,
 * lscpu and the DMI files, and no process started where nothing needs one.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { RealHost } from '../../../src/host/real-host.ts';
import { hostFactsReader } from '../../../src/metrics/host-facts.ts';

function run(file: string, args: readonly string[]): string {
  return execFileSync(file, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' },
  }).trim();
}

function dmi(name: string): string {
  const path = `/sys/class/dmi/id/${name}`;
  return existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
}

test("this machine's host facts are what its own tools say", async () => {
  const commands: string[] = [];
  const facts = await hostFactsReader(new RealHost('/', (argv) => commands.push(argv.join(' '))))();
  assert.equal(facts.os, run('sh', ['-c', '. /etc/os-release && printf %s "$PRETTY_NAME"']));
  assert.equal(facts.kernel, run('uname', ['-r']));
  assert.equal(facts.cpuCores, Number(run('getconf', ['_NPROCESSORS_ONLN'])));
  assert.equal(facts.cpuModel, /^Model name:\s*(.+)$/m.exec(run('lscpu', []))?.[1]?.trim());
  assert.deepEqual([facts.manufacturer, facts.product], [dmi('sys_vendor'), dmi('product_name')]);
  assert.equal(facts.arch, process.arch);
  const displays = run('sh', ['-c', 'cat /sys/bus/pci/devices/*/class 2>/dev/null || true'])
    .split('\n')
    .filter((c) => c.startsWith('0x03'));
  assert.equal(facts.gpus.length, displays.length);
  if (displays.length === 0) assert.deepEqual(commands, [], 'no display device: no lspci');
});

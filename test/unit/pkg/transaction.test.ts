import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CommandError, outputTail } from '../../../src/core/errors.ts';
import type { Logger } from '../../../src/core/logger.ts';
import { aptPackageManager } from '../../../src/pkg/apt.ts';
import { runPackageCommand } from '../../../src/pkg/transaction.ts';
import { FakeHost } from '../../support/fake-host.ts';

const POOL = 'http://deb.debian.org/debian/pool/main/x';
const RESOLVING = "Temporary failure resolving 'deb.debian.org'";

/** What apt-get install printed on a host whose DNS was not up yet (seen at first boot), twelve packages long. */
const APT_OFFLINE = [
  ...[
    'runc',
    'containerd',
    'libip6tc2',
    'libxtables12',
    'netbase',
    'libmnl0',
    'libnfnetlink0',
    'libnetfilter-conntrack3',
    'libnftnl11',
    'iptables',
    'tini',
    'docker.io',
  ].map((name, index) => `E: Failed to fetch ${POOL}/${name}/${name}_${index}.1-2_amd64.deb  ${RESOLVING}`),
  'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
  '',
].join('\n');

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const record = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, error: record('error'), warn: record('warn'), info: record('info'), debug: record('debug') };
}

test('a failure the network explains is retried, each retry logged: what failed, why, when next', async () => {
  const statuses = [100, 100, 0];
  const host = new FakeHost().onExec((file) =>
    file === 'apt-get' ? { exitCode: statuses.shift() ?? 0, stdout: '', stderr: APT_OFFLINE } : undefined,
  );
  const logger = recordingLogger();
  await runPackageCommand(
    host,
    { file: 'apt-get', args: ['install', '-y', '--', 'docker.io'] },
    logger,
    [5000, 20_000, 60_000],
  );
  assert.equal(host.execCalls.length, 3);
  assert.equal(host.slept, 25_000);
  const firstLine = `E: Failed to fetch ${POOL}/runc/runc_0.1-2_amd64.deb  ${RESOLVING}`;
  assert.deepEqual(logger.lines, [
    `warn: apt-get install -y -- docker.io exited with 100 (${firstLine}); attempt 2 of 4 in 5 s`,
    `warn: apt-get install -y -- docker.io exited with 100 (${firstLine}); attempt 3 of 4 in 20 s`,
  ]);
});

test('the last attempt fails with the lines that say why, each kind once', async () => {
  const host = new FakeHost().answer('apt-get', { exitCode: 100, stderr: APT_OFFLINE });
  const error = await runPackageCommand(
    host,
    { file: 'apt-get', args: ['install', '--', 'docker.io'] },
    recordingLogger(),
    [1],
  ).catch((caught: unknown) => caught);
  assert.ok(error instanceof CommandError);
  assert.equal(
    error.message,
    'apt-get install -- docker.io exited with 100: ' +
      `E: Failed to fetch ${POOL}/docker.io/docker.io_11.1-2_amd64.deb  ${RESOLVING} (and 11 more like it)\n` +
      'E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?',
  );
  assert.equal(error.stderr, APT_OFFLINE, 'the whole output stays with the error');
});

test('outputTail: the last five kinds of line, blank lines dropped, long lines cut', () => {
  const dpkg = [
    'Setting up eha-broken (1.0) ...',
    'dpkg: error processing package eha-broken (--configure):',
    ' installed eha-broken package post-installation script subprocess returned error exit status 1',
    '',
    'Errors were encountered while processing:',
    ' eha-broken',
    'E: Sub-process /usr/bin/dpkg returned an error code (1)',
  ].join('\n');
  assert.deepEqual(outputTail(dpkg).split('\n'), [
    'dpkg: error processing package eha-broken (--configure):',
    'installed eha-broken package post-installation script subprocess returned error exit status 1',
    'Errors were encountered while processing:',
    'eha-broken',
    'E: Sub-process /usr/bin/dpkg returned an error code (1)',
  ]);
  assert.equal(outputTail(`${'x'.repeat(400)}\n`), `${'x'.repeat(300)}…`);
  assert.equal(outputTail('\n\n'), '');
});

test('apt-get update and apt-cache policy may be stopped part-way; the install may not', async () => {
  const seen: Array<[string, boolean]> = [];
  const recording = new FakeHost().onExec((file, args, options) => {
    seen.push([[file, ...args.filter((arg) => !arg.includes('='))].join(' '), options.interruptible === true]);
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  await aptPackageManager(recording).availableVersion('docker.io');
  await aptPackageManager(recording).install(['docker.io']);
  assert.deepEqual(seen, [
    ['apt-get -o update', true],
    ['apt-cache policy -- docker.io', true],
    ['apt-get -o update', true],
    ['apt-get -o -o install -y --no-install-recommends -- docker.io', false],
  ]);
});

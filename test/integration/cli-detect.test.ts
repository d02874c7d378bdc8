import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { runCli } from '../support/cli.ts';
import { DEBIAN_ROOT, FIXTURES } from '../support/paths.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';

/** A scratch image root holding only a release's identification files. */
function releaseRoot(t: Parameters<typeof scratchDir>[0], fixture: string): string {
  const root = scratchDir(t);
  cpSync(`${FIXTURES}/os/${fixture}`, root, { recursive: true });
  return root;
}

test('detect --json on this machine reports Debian 12, x86_64, glibc and no systemd as PID 1', async () => {
  const result = await runCli(['detect', '--json']);
  assert.equal(result.status, 0, result.stderr);
  const facts = JSON.parse(result.stdout);
  assert.equal(facts.release.id, 'debian');
  assert.equal(facts.release.versionId, '12');
  assert.equal(facts.arch, 'x86_64');
  assert.equal(`glibc ${facts.glibc}`, execFileSync('getconf', ['GNU_LIBC_VERSION'], { encoding: 'utf8' }).trim());
  assert.equal(facts.systemdRunning, false);
  assert.equal(facts.manageable, true);
});

test('detect --root on a debootstrapped Debian root reports that system', async () => {
  requireRoot();
  const result = await runCli(['detect', '--json', '--root', DEBIAN_ROOT]);
  assert.equal(result.status, 0, result.stderr);
  const facts = JSON.parse(result.stdout);
  assert.deepEqual([facts.release.id, facts.release.versionId, facts.root], ['debian', '12', DEBIAN_ROOT]);
  assert.equal(facts.arch, 'x86_64');
  assert.equal(facts.glibc, '2.36');
  assert.equal(facts.systemdRunning, null, 'an image root is not running');
  assert.equal(facts.docker, null);
});

test('detect --root on a scratch Amazon Linux 2023 root reports Amazon Linux 2023', async (t) => {
  const result = await runCli(['detect', '--root', releaseRoot(t, 'amzn-2023')]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^system +Amazon Linux 2023\.4\.20240513 \(amzn 2023, from \/etc\/os-release\)$/m);
  assert.match(result.stdout, /^support +supported \(dnf\)$/m);
  assert.match(result.stdout, /^verdict +manageable$/m);
});

test('an unsupported release is refused with exit 3 and the supported list', async (t) => {
  const result = await runCli(['detect', '--root', releaseRoot(t, 'centos-7')]);
  assert.equal(result.status, 3);
  const supported = String.raw`supported: Amazon Linux 2023; Ubuntu 20\.04, 22\.04, 24\.04; Debian 11, 12; SLES 15 SP3`;
  assert.match(result.stderr, new RegExp(String.raw`CentOS Linux 7 \(Core\) is not supported; ${supported}`));
  assert.match(result.stdout, /^verdict +refused: /m);
});

test(
  'plan refuses an ECS-optimized image with exit 3 and the evidence; --allow-ecs-optimized ' + 'proceeds loudly',
  async (t) => {
    const root = releaseRoot(t, 'amzn-2023');
    mkdirSync(`${root}/etc/motd.d`, { recursive: true });
    writeFileSync(`${root}/etc/motd.d/31-banner`, 'Amazon Linux 2023 (ECS Optimized)\n');
    const refused = await runCli(['plan', '--root', root]);
    assert.equal(refused.status, 3);
    assert.match(refused.stderr, /looks like an Amazon ECS-optimized AMI/);
    assert.match(refused.stderr, /31-banner says \\?"ECS Optimized\\?"/);
    const allowed = await runCli(['plan', '--root', root, '--allow-ecs-optimized']);
    assert.notEqual(allowed.status, 3, allowed.stderr);
    assert.match(allowed.stderr, /warn: --allow-ecs-optimized: managing what looks like an ECS-optimized AMI/);
  },
);

test('a malformed os-release is refused with exit 3 naming the line', async (t) => {
  const root = scratchDir(t);
  mkdirSync(`${root}/etc`);
  writeFileSync(`${root}/etc/os-release`, 'ID=debian\nVERSION_ID=12\nthis line is broken\n');
  const result = await runCli(['detect', '--root', root]);
  assert.equal(result.status, 3);
  assert.match(
    result.stderr,
    /cannot identify the system: \/etc\/os-release:3: "this line is broken" is not KEY=value/,
  );
});

test('a bad config file exits 78 naming file, line, key, value and what is allowed', async (t) => {
  const config = `${scratchDir(t)}/agent.env`;
  writeFileSync(config, '# agent config\nECS_CLUSTER=prod\nSTORAGE_MODE=zfs\n');
  const result = await runCli(['detect', '--config', config]);
  assert.equal(result.status, 78);
  assert.match(
    result.stderr,
    new RegExp(`${config}:3: STORAGE_MODE="zfs" is not one of the choices; allowed: none, btrfs-file, btrfs-device`),
  );
  assert.equal(result.stdout, '', 'nothing is printed as data');
});

test('a missing --config file exits 78; a bad flag value exits 78; a bad flag exits 2', async (t) => {
  assert.equal((await runCli(['detect', '--config', `${scratchDir(t)}/none.env`])).status, 78);
  const badLevel = await runCli(['detect', '--log-level', 'loud']);
  assert.equal(badLevel.status, 78);
  assert.match(badLevel.stderr, /--log-level: LOG_LEVEL="loud"/);
  const unknown = await runCli(['detect', '--frobnicate']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown option '--frobnicate'.*--help/);
  assert.equal((await runCli(['frobnicate'])).status, 2);
  assert.equal((await runCli([])).status, 2);
});

test('--help on every command prints its usage and exits 0', async () => {
  for (const command of ['detect', 'plan', 'version']) {
    const result = await runCli([command, '--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, new RegExp(`^Usage: ecs-host-agent ${command}`));
  }
  assert.match((await runCli(['--help'])).stdout, /Commands:\n {2}detect/);
});

test(
  'under journald, logs are one JSON line per record with a syslog priority prefix; data stays on ' + 'stdout',
  async (t) => {
    const root = releaseRoot(t, 'centos-7');
    const result = await runCli(['detect', '--json', '--root', root], { JOURNAL_STREAM: '8:12345' });
    assert.equal(result.status, 3);
    const line = result.stderr.trim().split('\n')[0] ?? '';
    assert.match(line, /^<3>\{/);
    assert.equal(JSON.parse(line.slice(3)).level, 'error');
    assert.equal(JSON.parse(result.stdout).manageable, false);
  },
);

test('version prints the agent and Node versions', async () => {
  const result = await runCli(['version', '--json']);
  assert.equal(result.status, 0);
  assert.match(JSON.parse(result.stdout).node, /^24\./);
});

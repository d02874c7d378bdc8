/**
 * Runs before the suite (npm test): makes sure the system packages the
 * integration tests use are installed, and builds the shared, expensive
 * fixtures once per run (a debootstrap'd Debian root). As root it installs what
 * is missing (apt-get update first; a policy-rc.d keeps installed services from
 * starting); otherwise it fails naming the command to run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

import { promisify } from 'node:util';

import { DEBIAN_ROOT, DEBIAN_ROOT_READY, FIXTURE_CACHE, SYSTEMD_ROOT, SYSTEMD_ROOT_READY } from './paths.ts';

export const SYSTEM_PACKAGES = [
  'debootstrap',
  'btrfs-progs',
  'xfsprogs',
  'e2fsprogs',
  'openssl',
  'gnupg',
  'rpm',
  'createrepo-c',
  'dnf',
  'zypper',
  'docker.io',
  'systemd',
  'passwd',
  'sudo',
  'openssh-server',
  'openssh-client',
  'systemd-container',
  'faketime',
  'strace',
  // kill and ps: the users concern ends a removed user's processes; its tests watch them.
  'procps',
  // Receives remote write in the metrics sink tests; the policy-rc.d below keeps its service from starting.
  'prometheus',
  // htpasswd: the bcrypt hashes of the Prometheus page's basic_auth_users, made as operators make them.
  'apache2-utils',
  'shellcheck',
  // Debian's packer (1.6.6) validates the Packer template; see test/integration/packaging/packer.test.ts.
  'packer',
];

const POLICY_RC = '/usr/sbin/policy-rc.d';

function missingPackages(): string[] {
  return SYSTEM_PACKAGES.filter((name) => {
    try {
      return !execFileSync('dpkg-query', ['-W', '-f', '${Status}', '--', name], { encoding: 'utf8' }).endsWith(
        ' installed',
      );
    } catch {
      return true;
    }
  });
}

function installPackages(missing: string[]): void {
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) fail(`the test suite needs root and these packages: run as root: ${command}`);
  console.error(`setup: installing ${missing.join(' ')}`);
  const ownPolicy = !existsSync(POLICY_RC);
  if (ownPolicy) writeFileSync(POLICY_RC, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    execFileSync('apt-get', ['install', '-y', '-q', '--', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  } catch {
    fail(`installing test packages failed; run as root: ${command}`);
  } finally {
    if (ownPolicy) rmSync(POLICY_RC, { force: true });
  }
}

function checkMoto(): void {
  try {
    execFileSync('python3', ['-c', 'import moto.server'], { stdio: 'ignore' });
  } catch {
    fail(
      'python3 cannot import moto (moto_server emulates ECS and SSM for the tests): install ' +
        'moto[server] 5.x for python3',
    );
  }
}

/** The Debian mirror this machine's apt already uses, so the fixture needs no address of its own. */
function debianMirror(): string {
  const texts = [
    '/etc/apt/sources.list',
    ...listDir('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)),
  ]
    .filter((path) => existsSync(path))
    .map((path) => readFileSync(path, 'utf8'));
  for (const text of texts) {
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+bookworm\s/m.exec(text);
    if (oneLine) return oneLine[1] as string;
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      if (uri && /^Suites:.*\bbookworm\b/m.test(stanza) && !/debian-security/.test(uri)) return uri;
    }
  }
  return fail('no Debian bookworm mirror found in /etc/apt/sources.list{,.d}; the debootstrap fixture needs one');
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).map((name) => `${dir}/${name}`) : [];
}

interface RootFixture {
  readonly dir: string;
  readonly ready: string;
  readonly what: string;
  readonly include: readonly string[];
}

/** The minbase root for the package-manager tests, and one with systemd to boot as PID 1 (systemd-nspawn). */
const ROOT_FIXTURES: readonly RootFixture[] = [
  { dir: DEBIAN_ROOT, ready: DEBIAN_ROOT_READY, what: 'minbase', include: [] },
  {
    dir: SYSTEMD_ROOT,
    ready: SYSTEMD_ROOT_READY,
    what: 'minbase with systemd',
    include: ['systemd', 'systemd-sysv', 'dbus'],
  },
];

/** Builds the missing roots side by side (each about a minute). */
async function buildRoots(): Promise<void> {
  for (const fixture of ROOT_FIXTURES) unmountBelow(fixture.dir);
  const missing = ROOT_FIXTURES.filter((fixture) => !existsSync(fixture.ready));
  if (missing.length === 0) return;
  mkdirSync(FIXTURE_CACHE, { recursive: true });
  const mirror = debianMirror();
  await Promise.all(missing.map((fixture) => buildRoot(fixture, mirror)));
}

async function buildRoot(fixture: RootFixture, mirror: string): Promise<void> {
  console.error(
    `setup: debootstrap --variant=minbase bookworm, ${fixture.what} (shared read-only fixture, about a minute)`,
  );
  rmSync(fixture.dir, { recursive: true, force: true });
  const include = fixture.include.length > 0 ? [`--include=${fixture.include.join(',')}`] : [];
  try {
    await promisify(execFile)('debootstrap', ['--variant=minbase', ...include, 'bookworm', fixture.dir, mirror], {
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    fail(
      `debootstrap into ${fixture.dir} failed: ` +
        `${String((error as { stderr?: string }).stderr ?? error).slice(-2000)}`,
    );
  }
  unmountBelow(fixture.dir);
  writeFileSync(fixture.ready, new Date().toISOString());
}

/**
 * A root is copied whole by the tests (cp -a); a /proc debootstrap or a chroot left mounted in it would be copied
 * as an endless /proc/kmsg until the disk is full. Nothing may stay mounted below a shared fixture.
 */
function unmountBelow(dir: string): void {
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target === dir || target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const target of mounts) execFileSync('umount', ['-l', '--', target]);
}

function fail(message: string): never {
  console.error(`setup: ${message}`);
  process.exit(1);
}

const missing = missingPackages();
if (missing.length > 0) installPackages(missing);
checkMoto();
await buildRoots();

/**
 * The packages `npm run package` builds, checked with the real tools: the
 * .deb installed by dpkg into a debootstrap'd Debian root (run there through
 * chroot, upgraded, purged), the .rpm queried and installed with rpm. One
 * amd64 build of each version is shared by every test in this file.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';

import { build } from 'esbuild';

import { type BuiltPackage, buildPackages } from '../../../packaging/build.ts';
import { buildRpms } from '../../support/rpm-repo.ts';
import { OFFLINE_ENV } from '../../support/offline-env.ts';
import { DEBIAN_ROOT, FIXTURES, REPO } from '../../support/paths.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';

const PACKAGE_VERSION: string = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')).version;
const NEXT_VERSION = PACKAGE_VERSION.replace(/\d+$/, (patch) => String(Number(patch) + 1));
const NODE_VERSION: string = JSON.parse(readFileSync(`${REPO}package.json`, 'utf8')).devDependencies.node;
const AGENT_ENV = '/etc/ecs-host-agent/agent.env';
const ENABLED_LINK = '/etc/systemd/system/multi-user.target.wants/ecs-host-agent.service';
const RPM_LICENSES = '/usr/share/licenses/ecs-host-agent';
/** The bundle's chunks (packaging/build/bundle.ts), named by their content. */
const CHUNK = /^\/usr\/lib\/ecs-host-agent\/chunk-[A-Z0-9]+\.mjs$/;
const CHROOT_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' };

let work: string;
const built = new Map<string, string>();

function pkg(format: 'deb' | 'rpm', version: string): string {
  const path = built.get(`${format} ${version}`);
  assert.ok(path, `no ${format} ${version} was built`);
  return path;
}

before(async () => {
  requireRoot();
  work = mkdtempSync(join(tmpdir(), 'eha-packages-'));
  for (const version of [PACKAGE_VERSION, NEXT_VERSION]) {
    const packages: BuiltPackage[] = await buildPackages({
      arches: ['amd64'],
      outDir: `${work}/${version}`,
      version,
      compression: 'fast',
    });
    for (const { format, path } of packages) built.set(`${format} ${version}`, path);
  }
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = CHROOT_ENV) {
  const result = spawnSync(file, args, { encoding: 'utf8', env });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function inRoot(root: string, args: readonly string[]) {
  return run('chroot', [root, ...args]);
}

/**
 * gpg (for ecs-init's signature) is not in a minbase root and the test stays offline: by default only that dependency
 * is waived.
 */
function dpkgInstall(root: string, deb: string, waive: readonly string[] = ['--ignore-depends=gpg']) {
  const inside = `/tmp/${basename(deb)}`;
  execFileSync('cp', ['--', deb, `${root}${inside}`]);
  return inRoot(root, ['dpkg', '-i', ...waive, inside]);
}

/** rpm on a scratch root, with the database inside it (Debian's rpm keeps its own elsewhere). */
function rpmIn(root: string, args: readonly string[]) {
  return run('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...args], process.env);
}

function stub(root: string, path: string, script: string): void {
  mkdirSync(`${root}${path.slice(0, path.lastIndexOf('/'))}`, { recursive: true });
  writeFileSync(`${root}${path}`, `#!/bin/sh\n${script}\n`, { mode: 0o755 });
}

/**
 * What the systemctl stub was asked to do since the last call, reloads aside (deb-systemd-helper reloads by itself).
 */
function systemctlActions(root: string): string[] {
  const log = `${root}/var/log/systemctl-calls`;
  if (!existsSync(log)) return [];
  const calls = readFileSync(log, 'utf8').trim().split('\n');
  rmSync(log);
  return calls.filter((call) => call !== 'daemon-reload');
}

interface NpmPackage {
  readonly dir: string;
  readonly name: string;
  readonly version: string;
  readonly licenseFiles: readonly string[];
}

/** The npm packages in the agent's bundle, found afresh from esbuild's own account of its inputs. */
async function bundledNpmPackages(): Promise<NpmPackage[]> {
  const { metafile } = await build({
    absWorkingDir: REPO,
    entryPoints: ['src/cli/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    metafile: true,
    outfile: 'bundle.mjs',
    logLevel: 'error',
  });
  const dirs = new Set(
    Object.keys(metafile.inputs).flatMap((input) => /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []),
  );
  return [...dirs].map((dir) => {
    const { name, version } = JSON.parse(readFileSync(`${REPO}${dir}/package.json`, 'utf8'));
    const licenseFiles = readdirSync(`${REPO}${dir}`)
      .filter((file) => /^licen[cs]e/i.test(file))
      .map((file) => `${REPO}${dir}/${file}`);
    return { dir, name, version, licenseFiles };
  });
}

/** Licence texts compared by their words: the Debian copyright file indents them and writes blank lines as " .". */
function words(text: string): string {
  return text.replace(/^ \.$/gm, '').replace(/\s+/g, ' ').trim();
}

/** THIRD-PARTY-LICENSES by heading ("name version (licence)" between two rules). */
function headedSections(text: string): Map<string, string> {
  const parts = text.split(/^={79}\n(.+)\n={79}\n/m);
  const sections = new Map<string, string>();
  for (let i = 1; i < parts.length; i += 2) sections.set(parts[i] ?? '', parts[i + 1] ?? '');
  return sections;
}

function assertNonEmptyFile(path: string): string {
  assert.ok(existsSync(path), `${path} is installed`);
  const text = readFileSync(path, 'utf8');
  assert.ok(text.trim().length > 0, `${path} is not empty`);
  return text;
}

test('the .deb declares what it needs and its conffile, and holds the agent, its runtime, key and units', () => {
  const deb = pkg('deb', PACKAGE_VERSION);
  const field = (name: string) => execFileSync('dpkg-deb', ['--field', deb, name], { encoding: 'utf8' }).trim();
  assert.equal(field('Version'), `${PACKAGE_VERSION}-1`);
  assert.equal(field('Architecture'), 'amd64');
  assert.match(field('Depends'), /(^|, )libc6 \(>= 2\.28\)(,|$)/);
  assert.match(field('Depends'), /(^|, )gpg(,|$)/);
  const control = `${work}/control`;
  execFileSync('dpkg-deb', ['--control', deb, control]);
  assert.equal(readFileSync(`${control}/conffiles`, 'utf8'), `${AGENT_ENV}\n`);
  const contents = execFileSync('dpkg-deb', ['--contents', deb], { encoding: 'utf8' });
  for (const path of [
    '/usr/bin/ecs-host-agent',
    '/usr/lib/ecs-host-agent/node',
    '/usr/lib/ecs-host-agent/ecs-host-agent.mjs',
    '/usr/lib/ecs-host-agent/keys/amazon-ecs-agent.asc',
    '/lib/systemd/system/ecs-host-agent.service',
    '/usr/share/doc/ecs-host-agent/README.md',
    '/usr/share/doc/ecs-host-agent/docs/architecture.md',
    '/usr/share/doc/ecs-host-agent/src/control/PROTOCOL.md',
  ]) {
    assert.match(contents, new RegExp(` \\.${path.replaceAll('.', '\\.')}\\n`), path);
  }
  assert.match(
    contents,
    /^-rw------- root\/root .* \.\/etc\/ecs-host-agent\/agent\.env$/m,
    'agent.env may hold credentials: root only',
  );
  assert.match(
    contents,
    /^-rw-r--r-- root\/root .* \.\/usr\/lib\/ecs-host-agent\/chunk-[A-Z0-9]+\.mjs$/m,
    'the chunks the bundle loads sit next to it',
  );
});

test(
  'the .deb ships a DEP-5 copyright file with the licences of the agent, Node.js and every npm ' +
    'package in the bundle',
  async (t) => {
    const root = `${scratchDir(t)}/deb`;
    execFileSync('dpkg-deb', ['--extract', pkg('deb', PACKAGE_VERSION), root]);
    const copyright = assertNonEmptyFile(`${root}/usr/share/doc/ecs-host-agent/copyright`);
    assert.match(copyright, /^Format: https:\/\/www\.debian\.org\/doc\/packaging-manuals\/copyright-format\/1\.0\/\n/);
    assert.match(copyright, /\n\nFiles: \*\nCopyright: ecs-host-agent maintainers\nLicense: Apache-2\.0\n\n/);
    const nodeParagraph = String.raw`\n\nFiles: usr/lib/ecs-host-agent/node\nCopyright: .+\n`;
    assert.match(
      copyright,
      new RegExp(nodeParagraph + String.raw`License: Node\.js\n Node\.js is licensed for use as follows:\n`),
    );
    const text = words(copyright);
    assert.ok(text.includes(words(readFileSync(`${REPO}packaging/LICENSE`, 'utf8'))), "the agent's Apache-2.0 text");
    const packages = await bundledNpmPackages();
    assert.ok(
      packages.some((found) => found.name === '@aws-sdk/client-ecs') && packages.some((found) => found.name === 'yaml'),
      'the bundle holds npm packages: the AWS SDK and others',
    );
    for (const found of packages) {
      const paragraph = copyright.split('\n\n').find((candidate) => candidate.startsWith(`Files: ${found.dir}/*\n`));
      assert.ok(paragraph, `a Files paragraph for ${found.name} ${found.version}`);
      assert.match(
        paragraph,
        new RegExp(`\nComment: ${found.name.replaceAll('.', '\\.')} ${found.version.replaceAll('.', '\\.')}$`),
      );
      for (const file of found.licenseFiles)
        assert.ok(words(paragraph).includes(words(readFileSync(file, 'utf8'))), `${file} in full`);
    }
  },
);

test(
  'the .deb: real dpkg in a Debian root, enabled but never started in a chroot or image build, ' +
    'upgraded keeping an edited agent.env, purged',
  (t) => {
    assert.ok(
      existsSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`),
      'the debootstrap fixture is missing: run npm test, whose setup builds it',
    );
    const root = `${scratchDir(t)}/root`;
    execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
    // As in an image build whose chroot sees the build machine's /run: systemd looks running.
    mkdirSync(`${root}/run/systemd/system`, { recursive: true });
    stub(root, '/usr/local/sbin/systemctl', 'echo "$*" >> /var/log/systemctl-calls');

    const withoutGpg = dpkgInstall(root, pkg('deb', PACKAGE_VERSION), []);
    assert.equal(withoutGpg.status, 1, withoutGpg.output);
    assert.match(withoutGpg.output, /ecs-host-agent depends on gpg; however:\s+Package gpg is not installed/);

    const installed = dpkgInstall(root, pkg('deb', PACKAGE_VERSION));
    assert.equal(installed.status, 0, installed.output);
    const version = inRoot(root, ['/usr/bin/ecs-host-agent', '--version']);
    assert.equal(version.status, 0, version.output);
    assert.equal(version.output.trim(), `ecs-host-agent ${PACKAGE_VERSION} (node ${NODE_VERSION})`);
    assert.equal(readlinkSync(`${root}${ENABLED_LINK}`), '/lib/systemd/system/ecs-host-agent.service', 'enabled');
    assert.deepEqual(
      systemctlActions(root),
      [],
      'nothing started in a chroot (ischroot says so, although /run/systemd/system exists)',
    );

    const plan = run('chroot', [root, '/usr/bin/ecs-host-agent', 'plan'], { ...CHROOT_ENV, AWS_REGION: 'eu-west-1' });
    assert.match(
      plan.output,
      /verify the signature with \/usr\/lib\/ecs-host-agent\/keys\/amazon-ecs-agent\.asc \(Amazon ECS key /,
      'the bundle finds the shipped key',
    );

    stub(root, '/usr/local/bin/getconf', 'echo "glibc 2.26"');
    const oldGlibc = inRoot(root, ['/usr/bin/ecs-host-agent', '--version']);
    assert.equal(oldGlibc.status, 3, oldGlibc.output);
    assert.match(
      oldGlibc.output,
      /this system has glibc 2\.26; the agent's Node\.js runtime needs glibc 2\.28 or later/,
    );
    rmSync(`${root}/usr/local/bin/getconf`);

    appendFileSync(`${root}${AGENT_ENV}`, 'ECS_CLUSTER=edited-by-hand\n');
    // Now a booted system, not a chroot: the upgrade restarts the agent if it runs, without waiting.
    stub(root, '/usr/local/sbin/ischroot', 'exit 1');
    stub(root, '/usr/local/sbin/systemd-detect-virt', 'exit 1');
    const upgraded = dpkgInstall(root, pkg('deb', NEXT_VERSION));
    assert.equal(upgraded.status, 0, upgraded.output);
    assert.match(
      readFileSync(`${root}${AGENT_ENV}`, 'utf8'),
      /^ECS_CLUSTER=edited-by-hand$/m,
      'the edit survives the upgrade',
    );
    assert.equal(existsSync(`${root}${AGENT_ENV}.dpkg-dist`) || existsSync(`${root}${AGENT_ENV}.dpkg-new`), false);
    assert.equal(
      inRoot(root, ['/usr/bin/ecs-host-agent', '--version']).output.trim(),
      `ecs-host-agent ${NEXT_VERSION} (node ${NODE_VERSION})`,
    );
    assert.deepEqual(systemctlActions(root), [
      '--no-block try-restart ecs-host-agent.service',
      // The poweroff hook must be active to act; starting an active one does nothing.
      '--quiet is-enabled ecs-host-agent-decommission.service',
      '--no-block start ecs-host-agent-decommission.service',
    ]);

    const purged = inRoot(root, ['dpkg', '--purge', 'ecs-host-agent']);
    assert.equal(purged.status, 0, purged.output);
    assert.deepEqual(systemctlActions(root), [
      'stop ecs-host-agent-decommission.service ecs-host-agent.service',
      'reset-failed ecs-host-agent-decommission.service ecs-host-agent.service',
    ]);
    for (const path of ['/usr/bin/ecs-host-agent', '/usr/lib/ecs-host-agent', AGENT_ENV, ENABLED_LINK]) {
      assert.equal(existsSync(`${root}${path}`), false, `${path} is gone after purge`);
    }

    // An image builder's policy-rc.d forbids starting services: enabled only. And agent.env
    // written before the package is installed (as user-data does) is kept with --force-confold.
    stub(root, '/usr/sbin/policy-rc.d', 'exit 101');
    mkdirSync(`${root}/etc/ecs-host-agent`);
    writeFileSync(`${root}${AGENT_ENV}`, 'ECS_CLUSTER=from-user-data\n', { mode: 0o600 });
    const confold = dpkgInstall(root, pkg('deb', NEXT_VERSION), ['--ignore-depends=gpg', '--force-confold']);
    assert.equal(confold.status, 0, confold.output);
    assert.equal(readFileSync(`${root}${AGENT_ENV}`, 'utf8'), 'ECS_CLUSTER=from-user-data\n');
    assert.equal(readlinkSync(`${root}${ENABLED_LINK}`), '/lib/systemd/system/ecs-host-agent.service');
    assert.deepEqual(systemctlActions(root), []);
    assert.equal(inRoot(root, ['dpkg', '--purge', 'ecs-host-agent']).status, 0);
    systemctlActions(root);

    rmSync(`${root}/usr/sbin/policy-rc.d`);
    assert.equal(dpkgInstall(root, pkg('deb', NEXT_VERSION)).status, 0);
    assert.deepEqual(
      systemctlActions(root),
      [
        '--no-block start ecs-host-agent.service',
        '--quiet is-enabled ecs-host-agent-decommission.service',
        '--no-block start ecs-host-agent-decommission.service',
      ],
      'a new install on a booted system starts without waiting',
    );
  },
);

test(
  'a Debian build host without rpm: detect and plan --root of AL2023 and SLES give the verdict ' +
    'first, then name rpm and its package',
  (t) => {
    const root = `${scratchDir(t)}/root`;
    execFileSync('cp', ['-a', '--', DEBIAN_ROOT, root]);
    assert.equal(dpkgInstall(root, pkg('deb', PACKAGE_VERSION)).status, 0);
    assert.equal(existsSync(`${root}/usr/bin/rpm`), false, 'a minimal Debian has no rpm');
    const images = { al2023: 'amzn-2023', sles: 'sles-15.5', optimized: 'amzn-2023' };
    for (const [name, fixture] of Object.entries(images)) {
      mkdirSync(`${root}/mnt/${name}`, { recursive: true });
      execFileSync('cp', ['-a', '--', `${FIXTURES}/os/${fixture}/etc`, `${root}/mnt/${name}/etc`]);
    }
    // An ECS-optimized image is refused from its files alone: no package database needed.
    mkdirSync(`${root}/mnt/optimized/etc/motd.d`, { recursive: true });
    writeFileSync(`${root}/mnt/optimized/etc/motd.d/31-banner`, '   Amazon ECS-Optimized Amazon Linux 2023 AMI\n');
    const agent = (args: readonly string[]) =>
      run('chroot', [root, '/usr/bin/ecs-host-agent', ...args], { ...CHROOT_ENV, ...OFFLINE_ENV });
    const missingRpm = /rpm is not installed on this machine; on Debian and Ubuntu it comes with the package rpm/;

    for (const [name, manager] of [
      ['al2023', 'dnf'],
      ['sles', 'zypper'],
    ] as const) {
      const detected = agent(['detect', '--root', `/mnt/${name}`]);
      assert.equal(detected.status, 1, detected.output);
      assert.match(detected.output, new RegExp(`^support +supported \\(${manager}\\)$`, 'm'));
      assert.match(detected.output, /^docker +unknown \(the package database could not be read\)$/m);
      assert.match(detected.output, /^verdict +manageable$/m);
      assert.match(detected.output, missingRpm);
      const planned = agent(['plan', '--root', `/mnt/${name}`]);
      assert.equal(planned.status, 1, planned.output);
      assert.match(planned.output, missingRpm);
    }
    for (const command of ['detect', 'plan']) {
      const refused = agent([command, '--root', '/mnt/optimized']);
      assert.equal(refused.status, 3, refused.output);
      assert.match(refused.output, /looks like an Amazon ECS-optimized AMI/);
    }
  },
);

test(
  'the .rpm lists its files, keeps agent.env as config(noreplace), requires glibc >= 2.28 and ' +
    'enables without blocking',
  () => {
    const rpm = pkg('rpm', PACKAGE_VERSION);
    const query = (format: string) =>
      execFileSync('rpm', ['-qp', '--qf', format, rpm], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    assert.equal(query('%{NAME} %{VERSION}-%{RELEASE} %{ARCH}'), `ecs-host-agent ${PACKAGE_VERSION}-1 x86_64`);
    const files = Object.fromEntries(
      query('[%{FILENAMES} %{FILEMODES:perms} %{FILEFLAGS:fflags}\n]')
        .trim()
        .split('\n')
        .map((line) => {
          const [path, perms, flags = ''] = line.split(' ');
          return [path, `${perms} ${flags}`.trim()];
        }),
    );
    const chunks = Object.keys(files).filter((path) => CHUNK.test(path));
    assert.ok(chunks.length > 0, 'the chunks the bundle loads sit next to it');
    for (const chunk of chunks) {
      assert.equal(files[chunk], '-rw-r--r--', chunk);
      delete files[chunk];
    }
    assert.deepEqual(files, {
      '/etc/ecs-host-agent': 'drwxr-xr-x',
      [AGENT_ENV]: '-rw------- cn',
      '/usr/bin/ecs-host-agent': '-rwxr-xr-x',
      '/usr/lib/ecs-host-agent': 'drwxr-xr-x',
      '/usr/lib/ecs-host-agent/ecs-host-agent.mjs': '-rw-r--r--',
      '/usr/lib/ecs-host-agent/keys': 'drwxr-xr-x',
      '/usr/lib/ecs-host-agent/keys/amazon-ecs-agent.asc': '-rw-r--r--',
      '/usr/lib/ecs-host-agent/node': '-rwxr-xr-x',
      '/usr/lib/systemd/system/ecs-host-agent-decommission.service': '-rw-r--r--',
      '/usr/lib/systemd/system/ecs-host-agent.service': '-rw-r--r--',
      '/usr/share/doc/ecs-host-agent': 'drwxr-xr-x',
      '/usr/share/doc/ecs-host-agent/README.md': '-rw-r--r-- d',
      '/usr/share/doc/ecs-host-agent/docs': 'drwxr-xr-x',
      '/usr/share/doc/ecs-host-agent/docs/architecture.md': '-rw-r--r-- d',
      '/usr/share/doc/ecs-host-agent/docs/benchmarks.md': '-rw-r--r-- d',
      '/usr/share/doc/ecs-host-agent/docs/testing.md': '-rw-r--r-- d',
      '/usr/share/doc/ecs-host-agent/src': 'drwxr-xr-x',
      '/usr/share/doc/ecs-host-agent/src/control': 'drwxr-xr-x',
      '/usr/share/doc/ecs-host-agent/src/control/PROTOCOL.md': '-rw-r--r-- d',
      [RPM_LICENSES]: 'drwxr-xr-x',
      [`${RPM_LICENSES}/LICENSE`]: '-rw-r--r-- l',
      [`${RPM_LICENSES}/NODEJS-LICENSE`]: '-rw-r--r-- l',
      [`${RPM_LICENSES}/THIRD-PARTY-LICENSES`]: '-rw-r--r-- l',
    });
    const requires = query('[%{REQUIRES} %{REQUIREFLAGS:depflags} %{REQUIREVERSION}\n]');
    assert.match(requires, /^glibc >= 2\.28$/m);
    assert.match(requires, /^libc\.so\.6\(GLIBC_2\.28\)\(64bit\)/m, "rpm's own ELF scan of the Node.js binary");
    assert.match(requires, /^libstdc\+\+\.so\.6\(\)\(64bit\)/m);
    const scripts = execFileSync('rpm', ['-qp', '--scripts', rpm], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    for (const scriptlet of ['postinstall', 'preuninstall', 'postuninstall'])
      assert.match(scripts, new RegExp(`^${scriptlet} scriptlet \\(using /bin/sh\\):$`, 'm'));
    assert.match(scripts, /systemctl enable "\$unit"/);
    assert.match(scripts, /systemctl --no-block start "\$MAIN_UNIT"/);
    assert.match(scripts, /systemctl stop \$SHIPPED_UNITS/, 'an erase stops every unit before its files go');
    assert.doesNotMatch(scripts, /systemctl (start|restart|try-restart) /, 'every start is --no-block');
    for (const body of scripts.split(/^\S+ scriptlet \(using \/bin\/sh\):$/m).slice(1)) {
      assert.equal(spawnSync('sh', ['-n'], { input: body }).status, 0, `scriptlet parses:\n${body}`);
    }
  },
);

test(
  'the .rpm installs the licences of the agent, Node.js and every npm package in the bundle as ' + '%license files',
  async (t) => {
    const root = `${scratchDir(t)}/root`;
    assert.equal(rpmIn(root, ['--initdb']).status, 0);
    const installed = rpmIn(root, ['-i', '--nodeps', '--noscripts', pkg('rpm', PACKAGE_VERSION)]);
    assert.equal(installed.status, 0, installed.output);
    assert.equal(
      assertNonEmptyFile(`${root}${RPM_LICENSES}/LICENSE`),
      readFileSync(`${REPO}packaging/LICENSE`, 'utf8'),
    );
    assert.match(
      assertNonEmptyFile(`${root}${RPM_LICENSES}/NODEJS-LICENSE`),
      /^Node\.js is licensed for use as follows:\n/,
    );
    const thirdParty = assertNonEmptyFile(`${root}${RPM_LICENSES}/THIRD-PARTY-LICENSES`);
    const sections = headedSections(thirdParty);
    const packages = await bundledNpmPackages();
    assert.equal(sections.size, packages.length, 'one section per bundled package');
    for (const found of packages) {
      const heading = [...sections.keys()].find((key) => key.startsWith(`${found.name} ${found.version} (`));
      assert.ok(heading, `a section for ${found.name} ${found.version}`);
      const body = words(sections.get(heading) ?? '');
      assert.ok(body.length > 0, `${found.name}'s licence text`);
      for (const file of found.licenseFiles)
        assert.ok(body.includes(words(readFileSync(file, 'utf8'))), `${file} in full`);
    }
  },
);

test('rpm refuses the .rpm where glibc is older than 2.28 (Amazon Linux 2), naming the requirement', async (t) => {
  const dir = scratchDir(t);
  const root = `${dir}/root`;
  const [oldGlibc] = await buildRpms(`${dir}/rpms`, [{ name: 'glibc', version: '2.26', release: '1.amzn2' }]);
  assert.equal(rpmIn(root, ['--initdb']).status, 0);
  const glibcInstalled = rpmIn(root, ['-i', '--nodeps', oldGlibc as string]);
  assert.equal(glibcInstalled.status, 0, glibcInstalled.output);
  const refused = rpmIn(root, ['-i', '--test', pkg('rpm', PACKAGE_VERSION)]);
  assert.equal(refused.status, 1, refused.output);
  assert.match(
    refused.output,
    new RegExp(`glibc >= 2\\.28 is needed by ecs-host-agent-${PACKAGE_VERSION.replaceAll('.', '\\.')}-1\\.x86_64`),
  );
});

test('an rpm upgrade keeps an edited agent.env', (t) => {
  const root = `${scratchDir(t)}/root`;
  // Files and config handling only: the scratch root has no shell for the scriptlets (the deb test runs them).
  const rpm = (args: readonly string[]) => rpmIn(root, ['--nodeps', '--noscripts', ...args]);
  assert.equal(rpmIn(root, ['--initdb']).status, 0);
  const installed = rpm(['-i', pkg('rpm', PACKAGE_VERSION)]);
  assert.equal(installed.status, 0, installed.output);
  appendFileSync(`${root}${AGENT_ENV}`, 'ECS_CLUSTER=edited-by-hand\n');
  const upgraded = rpm(['-U', pkg('rpm', NEXT_VERSION)]);
  assert.equal(upgraded.status, 0, upgraded.output);
  assert.match(readFileSync(`${root}${AGENT_ENV}`, 'utf8'), /^ECS_CLUSTER=edited-by-hand$/m);
  assert.equal(
    existsSync(`${root}${AGENT_ENV}.rpmnew`),
    false,
    'the default did not change, so there is nothing new to offer',
  );
  assert.match(
    rpmIn(root, ['-q', 'ecs-host-agent']).output,
    new RegExp(`^ecs-host-agent-${NEXT_VERSION.replaceAll('.', '\\.')}-1\\.x86_64$`, 'm'),
  );
});

test('rpm keeps an agent.env written before the first install (user-data), offering its default as .rpmnew', (t) => {
  const root = `${scratchDir(t)}/root`;
  mkdirSync(`${root}/etc/ecs-host-agent`, { recursive: true });
  writeFileSync(`${root}${AGENT_ENV}`, 'ECS_CLUSTER=from-user-data\n', { mode: 0o600 });
  assert.equal(rpmIn(root, ['--initdb']).status, 0);
  const installed = rpmIn(root, ['-i', '--nodeps', '--noscripts', pkg('rpm', PACKAGE_VERSION)]);
  assert.equal(installed.status, 0, installed.output);
  assert.equal(readFileSync(`${root}${AGENT_ENV}`, 'utf8'), 'ECS_CLUSTER=from-user-data\n');
  assert.equal(readFileSync(`${root}${AGENT_ENV}.rpmnew`, 'utf8'), readFileSync(`${REPO}packaging/agent.env`, 'utf8'));
});

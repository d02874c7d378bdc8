/**
 * Scratch image roots of the RPM family, for real `dnf --installroot` and
 * `zypper --root` runs: the distribution's os-release, the package manager's
 * own configuration (so it never falls back to this machine's), and local
 * file:// repositories only, so nothing leaves this machine.
 *
 * The roots are new, so their rpm database is wherever this machine's rpm puts
 * one (%_dbpath); dnf, zypper and `rpm --root` all agree on it.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { FIXTURES } from './paths.ts';
import { buildRpms, type RpmPackage } from './rpm-repo.ts';
import { runTool } from './run-tool.ts';

export type RpmRootKind = 'amazon-linux-2023' | 'sles-15';

interface RootRecipe {
  /** Under test/fixtures/os: the etc/ to copy. */
  readonly fixture: string;
  readonly reposDir: string;
  readonly configFiles: Readonly<Record<string, string>>;
  /** Installed with rpm when the root is made, as an image has them before the agent runs. */
  readonly basePackages: readonly RpmPackage[];
}

// dnf --installroot reads dnf.conf from the root, or from this machine when
// the root has none; a real image has its own. skip_if_unavailable=False (dnf's
// default, which this machine's dnf.conf turns off) makes a broken repository
// fail the install instead of turning into "No match for argument".
const DNF_CONF = [
  '[main]',
  'gpgcheck=True',
  'installonly_limit=3',
  'clean_requirements_on_remove=True',
  'best=False',
  'skip_if_unavailable=False',
  '',
].join('\n');

// dnf --installroot takes $releasever from the root's rpm database (whatever
// provides system-release(releasever)), so the agent need not pass --releasever.
const SYSTEM_RELEASE: RpmPackage = {
  name: 'system-release',
  version: '2023.6.20241010',
  release: '0.amzn2023',
  provides: ['system-release(releasever) = 2023'],
};

const RECIPES: Readonly<Record<RpmRootKind, RootRecipe>> = {
  'amazon-linux-2023': {
    fixture: 'amzn-2023',
    reposDir: '/etc/yum.repos.d',
    configFiles: { '/etc/dnf/dnf.conf': DNF_CONF },
    basePackages: [SYSTEM_RELEASE],
  },
  'sles-15': {
    fixture: 'sles-15.5',
    reposDir: '/etc/zypp/repos.d',
    configFiles: {},
    basePackages: [],
  },
};

/** Makes an image root of the kind at root (a new directory) using the repository as "local"; returns root. */
export async function createRpmRoot(root: string, kind: RpmRootKind, repo: string): Promise<string> {
  const recipe = RECIPES[kind];
  await cp(join(FIXTURES, 'os', recipe.fixture, 'etc'), join(root, 'etc'), { recursive: true });
  for (const [path, text] of Object.entries(recipe.configFiles)) await writeUnder(root, path, text);
  await installBasePackages(root, recipe.basePackages);
  await addRepo(root, kind, 'local', repo);
  return root;
}

/** Points the root's package manager at one more local repository (e.g. one with updates). */
export async function addRepo(root: string, kind: RpmRootKind, name: string, repo: string): Promise<void> {
  await writeUnder(root, `${RECIPES[kind].reposDir}/${name}.repo`, repoFile(name, repo));
}

/** One text both read; each ignores the other's keys. */
function repoFile(name: string, repo: string): string {
  return [
    `[${name}]`,
    `name=${name} (ecs-host-agent test repository)`,
    `baseurl=file://${repo}`,
    'type=rpm-md',
    'enabled=1',
    // The stub packages are unsigned.
    'gpgcheck=0',
    // A repository rebuilt during a test is read again (dnf, then zypper).
    'metadata_expire=0',
    'autorefresh=1',
    '',
  ].join('\n');
}

async function installBasePackages(root: string, packages: readonly RpmPackage[]): Promise<void> {
  if (packages.length === 0) return;
  const staging = join(root, 'tmp', 'base-packages');
  const files = await buildRpms(staging, packages);
  await runTool('rpm', ['--root', root, '--install', '--', ...files]);
  await rm(staging, { recursive: true, force: true });
}

async function writeUnder(root: string, path: string, text: string): Promise<void> {
  const target = join(root, path);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, text);
}

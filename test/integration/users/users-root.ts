import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';

import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { DEBIAN_ROOT } from '../../support/paths.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';
import { concernContext } from '../../support/concern-context.ts';

/**
 * A scratch root holding a real Debian 12 account database (passwd, group,
 * shadow, gshadow, login.defs, skel from the shared debootstrap'd root), so the
 * real useradd/usermod/userdel work on it with --root and this machine's /etc
 * is never touched.
 */
const ACCOUNT_FILES = ['passwd', 'group', 'shadow', 'gshadow', 'login.defs', 'skel'];

export function accountsRoot(t: TestContext): string {
  requireRoot();
  return fillAccountsRoot(scratchDir(t, 'eha-users-'));
}

/** Fills an empty directory with the account files, /home and os-release. */
export function fillAccountsRoot(root: string): string {
  if (!existsSync(`${DEBIAN_ROOT}/etc/passwd`))
    throw new Error(`${DEBIAN_ROOT} is missing: run node test/support/setup-system.ts first`);
  mkdirSync(`${root}/etc`);
  mkdirSync(`${root}/home`);
  for (const name of ACCOUNT_FILES) cpSync(`${DEBIAN_ROOT}/etc/${name}`, `${root}/etc/${name}`, { recursive: true });
  copyFileSync(`${DEBIAN_ROOT}/usr/lib/os-release`, `${root}/etc/os-release`);
  return root;
}

export async function usersContext(root: string, env: Record<string, string>): Promise<ConcernContext> {
  const host = new RealHost(root);
  const config = loadConfig({ file: '/etc/ecs-host-agent/agent.env', fileText: null, env, flags: {} });
  return await concernContext(host, config);
}

export function writeUsersFile(path: string, document: unknown): void {
  writeFileSync(path, JSON.stringify(document, null, 2));
}

export interface KeyPair {
  readonly privateKey: string;
  readonly publicLine: string;
}

export function newKeyPair(dir: string, name: string): KeyPair {
  const privateKey = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${name}@test`, '-f', privateKey]);
  return { privateKey, publicLine: readFileSync(`${privateKey}.pub`, 'utf8').trim() };
}

/** Path → sha256 (or symlink target, or "dir <mode> <uid>") of the account files and everything below /home. */
export function snapshot(root: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const name of ['passwd', 'group', 'shadow', 'gshadow'])
    entries.set(`/etc/${name}`, digest(`${root}/etc/${name}`));
  walk(root, '/home', entries);
  return entries;
}

function walk(root: string, path: string, entries: Map<string, string>): void {
  const info = lstatSync(`${root}${path}`);
  const owner = `${(info.mode & 0o7777).toString(8)} ${info.uid}:${info.gid}`;
  if (info.isSymbolicLink()) entries.set(path, `link ${owner}`);
  else if (info.isFile()) entries.set(path, `${digest(`${root}${path}`)} ${owner}`);
  else if (info.isDirectory()) {
    entries.set(path, `dir ${owner}`);
    for (const name of readdirSync(`${root}${path}`)) walk(root, `${path}/${name}`, entries);
  }
}

function digest(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

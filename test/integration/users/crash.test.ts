import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test } from 'node:test';

import { parseAccounts } from './accounts-check.ts';
import { runCli } from '../../support/cli.ts';
import { CLI } from '../../support/paths.ts';
import { accountsRoot, newKeyPair, writeUsersFile } from './users-root.ts';

/**
 * A sync killed at each step of creating accounts, for real: strace injects a signal at one exact system call
 * (the Nth of its kind in one process). Either the account tool dies there (SIGKILL: newusers part way through
 * making homes, between two of its database files; every gpasswd), or the whole agent does (SIGSTOP there, then
 * SIGKILL to its process group, as when systemd stops it or the OOM killer ends it: before newusers, before
 * gpasswd, half way through the homes). The next plain sync must finish every account (databases, no password,
 * groups, home from skel owned by the user, keys), and the one after must find nothing to do.
 *
 * The counts are per process (per thread for the agent): `zed`, synced first, creates the agent's groups, sshd
 * drop-in and sudoers file, so before newusers the agent only writes its state (one mkdir, one rename), and the
 * counts below are the tools' own (newusers: four link/unlink pairs to lock, a mkdir and chown per home, then per
 * database a rename and the unlink of its lock; fchmod: newusers 8, chpasswd 2, gpasswd 4, the agent 5 per home,
 * so the 9th fchmod of one of the agent's threads falls part way through the homes).
 */
interface KillPoint {
  readonly name: string;
  readonly inject: string;
  /** KILL: the process making the call dies. STOP: it stops, then the whole agent is killed. */
  readonly signal: 'KILL' | 'STOP';
  /** What the crash left, so the point is known to have been reached. */
  readonly left: (root: string) => void;
}

const NEW_USERS = Array.from({ length: 10 }, (_, i) => `user${i}`);
const SOURCE_ENV = { USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users' };

function names(root: string, file: string): string[] {
  return readFileSync(`${root}/etc/${file}`, 'utf8')
    .split('\n')
    .map((line) => line.split(':')[0] as string);
}

const has = (root: string, file: string, name: string) => names(root, file).includes(name);
const creating = (root: string) =>
  (JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/users.json`, 'utf8')) as { creating: string[] }).creating;

const POINTS: readonly KillPoint[] = [
  {
    name: 'agent killed as it starts newusers',
    inject: 'execve:when=3',
    signal: 'STOP',
    left: (root) => assert.ok(!has(root, 'passwd', 'user0') && creating(root).length === 10),
  },
  {
    name: 'newusers killed making the second home',
    inject: 'mkdir:when=2',
    signal: 'KILL',
    left: (root) =>
      assert.ok(existsSync(`${root}/home/user0`) && !existsSync(`${root}/home/user1`) && !has(root, 'passwd', 'user0')),
  },
  {
    name: 'newusers killed between mkdir and chown of a home',
    inject: 'chown:when=3',
    signal: 'KILL',
    left: (root) => assert.ok(statSync(`${root}/home/user2`).uid === 0 && !has(root, 'passwd', 'user2')),
  },
  {
    name: 'newusers killed with passwd written, not shadow',
    inject: 'unlink:when=5',
    signal: 'KILL',
    left: (root) =>
      assert.ok(has(root, 'passwd', 'user0') && !has(root, 'shadow', 'user0') && existsSync(`${root}/etc/passwd.lock`)),
  },
  {
    name: 'newusers killed with passwd and shadow written, not group',
    inject: 'unlink:when=6',
    signal: 'KILL',
    left: (root) => assert.ok(has(root, 'shadow', 'user0') && !has(root, 'group', 'user0')),
  },
  {
    name: 'newusers killed with group written, not gshadow',
    inject: 'unlink:when=7',
    signal: 'KILL',
    left: (root) => assert.ok(has(root, 'group', 'user0') && !has(root, 'gshadow', 'user0')),
  },
  {
    name: 'newusers killed with every database written',
    inject: 'unlink:when=8',
    signal: 'KILL',
    left: (root) => assert.ok(has(root, 'gshadow', 'user0') && existsSync(`${root}/etc/gshadow.lock`)),
  },
  {
    name: 'every gpasswd killed as it starts (the agent goes on)',
    inject: 'execve:when=4',
    signal: 'KILL',
    left: (root) =>
      assert.ok(!readFileSync(`${root}/etc/group`, 'utf8').includes('user0,') && creating(root).length === 10),
  },
  {
    name: 'agent killed as it starts gpasswd',
    inject: 'execve:when=4',
    signal: 'STOP',
    left: (root) => assert.match(readFileSync(`${root}/etc/shadow`, 'utf8'), /^user9:\*:/m),
  },
  {
    name: 'agent killed part way through the homes',
    inject: 'fchmod:when=9+',
    signal: 'STOP',
    left: (root) =>
      assert.ok(
        creating(root).length === 10 &&
          NEW_USERS.some((name) => !existsSync(`${root}/home/${name}/.ssh/authorized_keys`)),
      ),
  },
];

for (const point of POINTS) {
  test(`creation killed for real (${point.name}): the next sync finishes every account`, async (t) => {
    const root = accountsRoot(t);
    const key = newKeyPair(root, 'key').publicLine;
    const document = (users: readonly string[]) =>
      Object.fromEntries([
        ['zed', { sshPublicKeys: [key], sudo: true }],
        ...users.map((name, i) => [name, { sshPublicKeys: [key], sudo: i % 3 === 0, groups: i % 2 ? ['users'] : [] }]),
      ]);
    writeUsersFile(`${root}/users.json`, document([]));
    assert.equal((await runCli(['users', 'sync', '--root', root, '--config', '/dev/null'], SOURCE_ENV)).status, 0);
    writeUsersFile(`${root}/users.json`, document(NEW_USERS));

    const log = await crashedSync(root, point);
    assert.match(
      log,
      point.signal === 'KILL' ? /\+\+\+ killed by SIGKILL \+\+\+/ : /--- stopped by SIGSTOP ---/,
      'strace stopped the sync where asked',
    );
    point.left(root);

    const repair = await runCli(['users', 'sync', '--root', root, '--config', '/dev/null', '--json'], SOURCE_ENV);
    assert.equal(repair.status, 0, `${repair.stdout}\n${repair.stderr}`);
    const accounts = parseAccounts(root);
    for (const [i, name] of NEW_USERS.entries()) {
      const account = accounts.get(name);
      assert.ok(account, `${name} exists`);
      assert.equal(account.password, '*', `${name}: no password`);
      assert.ok(account.privateGroup && account.inGshadow, `${name}: its group, in group and gshadow alike`);
      const groups = [
        'ecs-host-agent-users',
        ...(i % 3 === 0 ? ['ecs-host-agent-sudo'] : []),
        ...(i % 2 ? ['users'] : []),
      ].sort();
      assert.deepEqual(account.groups, groups, `${name}: groups`);
      const home = statSync(`${root}/home/${name}`);
      assert.deepEqual([home.uid, home.gid], [account.uid, account.gid], `${name}: home owned by the user`);
      for (const file of readdirSync(`${root}/etc/skel`)) {
        assert.equal(
          readFileSync(`${root}/home/${name}/${file}`, 'utf8'),
          readFileSync(`${root}/etc/skel/${file}`, 'utf8'),
          `${name}: ${file}`,
        );
      }
      assert.ok(readFileSync(`${root}/home/${name}/.ssh/authorized_keys`, 'utf8').includes(key), `${name}: keys`);
      assert.deepEqual(
        readdirSync(`${root}/home/${name}/.ssh`),
        ['authorized_keys'],
        `${name}: no temporary file left`,
      );
    }
    assert.deepEqual(JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/users.json`, 'utf8')), {
      managedUsers: [...NEW_USERS, 'zed'],
      creating: [],
      retiredUids: [],
    });

    const again = await runCli(['users', 'sync', '--root', root, '--config', '/dev/null', '--dry-run'], SOURCE_ENV);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /\n {2}up to date\n$/, 'plan after repair is empty');
  });
}

/** The CLI under strace, killed or stopped at the point; a stopped agent is then killed with its process group. */
async function crashedSync(root: string, point: KillPoint): Promise<string> {
  const log = `${root}/strace.log`;
  const syscall = point.inject.split(':')[0] as string;
  const strace = [
    '-f',
    '-q',
    '-o',
    log,
    '-e',
    `trace=${syscall}`,
    '-e',
    `inject=${point.inject.replace(':', `:signal=${point.signal}:`)}`,
  ];
  const child = spawn(
    'strace',
    [...strace, '--', process.execPath, CLI, 'users', 'sync', '--root', root, '--config', '/dev/null'],
    {
      detached: true,
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...SOURCE_ENV },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = () => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  try {
    for (let waited = 0; waited < 120_000; waited += 100) {
      const text = existsSync(log) ? readFileSync(log, 'utf8') : '';
      if (point.signal === 'STOP' && text.includes('--- stopped by SIGSTOP ---')) break;
      if (child.exitCode !== null || child.signalCode !== null) break;
      await delay(100);
    }
  } finally {
    if (point.signal === 'STOP') killGroup();
    await Promise.race([exited, delay(10_000).then(killGroup)]);
  }
  return readFileSync(log, 'utf8');
}

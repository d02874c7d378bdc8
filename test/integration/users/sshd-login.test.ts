import assert from 'node:assert/strict';
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';

import { SSHD_DROP_IN_TEXT, USERS } from '../../../src/concerns/users/settings.ts';
import { syncUsers, type UsersSyncReport } from '../../../src/concerns/users/sync.ts';
import { CLI } from '../../support/paths.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';
import { type Sshd, sshLogin, sshSession, startSshd } from '../../support/sshd.ts';
import { newKeyPair, usersContext, writeUsersFile } from './users-root.ts';

/**
 * The real thing: a real sshd with Debian's stock configuration authenticates against this machine's accounts
 * (PAM included), so these tests sync real users into "/" under unique eha-test- names, and remove them, the
 * agent's groups, sudoers file, sshd drop-in and state afterwards. They run one after the other (one file).
 */
function cleanUpThisMachine(t: TestContext, names: readonly string[]): void {
  const restore = (path: string) => {
    const previous = existsSync(path) ? readFileSync(path) : null;
    return () => (previous === null ? rmSync(path, { force: true }) : writeFileSync(path, previous));
  };
  const groups = [USERS.markerGroup, USERS.sudoGroup].filter(
    (group) => !readFileSync('/etc/group', 'utf8').includes(`\n${group}:`),
  );
  const steps = [
    ...names.map((name) => () => execFileSync('userdel', ['--remove', '--', name], { stdio: 'ignore' })),
    ...groups.map((group) => () => execFileSync('groupdel', ['--', group], { stdio: 'ignore' })),
    ...[USERS.sudoersFile, USERS.stateFile, USERS.sshdDropIn, USERS.sourceCacheFile].map(restore),
    ...(existsSync(USERS.sshdDropInDirectory) ? [] : [() => rmdirSync(USERS.sshdDropInDirectory)]),
    ...(existsSync(USERS.stateDirectory) ? [] : [() => rmdirSync(USERS.stateDirectory)]),
  ];
  t.after(() => {
    for (const step of steps) {
      try {
        step();
      } catch {
        // Keep going: a user the test never created cannot be deleted.
      }
    }
  });
}

function testNames(count: number): string[] {
  const prefix = `eha-test-${randomBytes(3).toString('hex')}`;
  return Array.from({ length: count }, (_, i) => `${prefix}-${String.fromCharCode(97 + i)}`);
}

function idOf(name: string): { uid: number; gid: number } {
  const [uid, gid] = ['-u', '-g'].map((flag) => Number(execFileSync('id', [flag, '--', name], { encoding: 'utf8' })));
  return { uid: uid as number, gid: gid as number };
}

/** What a user can do by hand: put a key of their choosing into a file of their own home. */
function plantKey(name: string, file: string, line: string): void {
  const path = `/home/${name}/.ssh/${file}`;
  writeFileSync(path, `${line}\n`, { mode: 0o600 });
  const { uid, gid } = idOf(name);
  chownSync(path, uid, gid);
}

function shadowOf(name: string): string {
  return (
    readFileSync('/etc/shadow', 'utf8')
      .split('\n')
      .find((line) => line.startsWith(`${name}:`)) ?? ''
  );
}

function membersOf(group: string): string[] {
  const line =
    readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith(`${group}:`)) ?? '';
  return (line.split(':')[3] ?? '').split(',').filter(Boolean);
}

async function syncedWith(
  source: string,
  document: unknown,
  env: Record<string, string> = {},
): Promise<UsersSyncReport> {
  writeUsersFile(source, document);
  return syncUsers(await usersContext('/', { USERS_SOURCE: `file:${source}`, ...env }), { dryRun: false });
}

function assertDone(report: UsersSyncReport): void {
  assert.deepEqual(
    report.problems.filter((problem) => problem.user !== null),
    [],
  );
  assert.ok(
    report.steps.every((step) => step.done),
    JSON.stringify(report.steps, null, 2),
  );
}

test('stock sshd: only the keys of the source log in (not authorized_keys2, not a rotated-out key)', async (t) => {
  requireRoot();
  const dir = scratchDir(t, 'eha-sshd-');
  const [admin, dev, outsider] = testNames(3) as [string, string, string];
  cleanUpThisMachine(t, [admin, dev, outsider]);
  const sshd: Sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const [adminKey, devKey, devKey2, planted] = ['admin', 'dev', 'dev2', 'planted'].map((name) => newKeyPair(dir, name));
  const source = `${dir}/users.json`;

  assertDone(
    await syncedWith(source, {
      [admin]: { sshPublicKeys: [adminKey!.publicLine], sudo: true },
      [dev]: { sshPublicKeys: [devKey!.publicLine] },
    }),
  );
  // Checked by the agent with this machine's own `sshd -t`; the unit would now be reloaded.
  assert.equal(readFileSync(USERS.sshdDropIn, 'utf8'), SSHD_DROP_IN_TEXT);
  await sshd.reload();

  // The stock default at work: an account the agent does not manage logs in with a key only in authorized_keys2.
  execFileSync('useradd', ['--create-home', '--', outsider]);
  execFileSync('install', ['-d', '-m', '700', '-o', outsider, '-g', outsider, '--', `/home/${outsider}/.ssh`]);
  plantKey(outsider, 'authorized_keys2', planted!.publicLine);
  const control = await sshLogin(sshd.port, outsider, planted!.privateKey, 'id -un');
  assert.ok(control.ok, `stock sshd reads authorized_keys2: ${control.stderr}`);

  const adminLogin = await sshLogin(sshd.port, admin, adminKey!.privateKey, 'id -un && sudo -n true && echo sudo-ok');
  assert.ok(adminLogin.ok, adminLogin.stderr);
  assert.equal(adminLogin.stdout, `${admin}\nsudo-ok\n`);
  const devSudo = await sshLogin(sshd.port, dev, devKey!.privateKey, 'sudo -n true');
  assert.equal(devSudo.ok, false, 'no sudo without "sudo": true');
  assert.match(devSudo.stderr, /password is required|not in the sudoers|may not run sudo/);
  assert.equal(
    (await sshLogin(sshd.port, dev, adminKey!.privateKey)).ok,
    false,
    "another user's key does not open dev",
  );

  plantKey(dev, 'authorized_keys2', planted!.publicLine);
  assert.equal(
    (await sshLogin(sshd.port, dev, planted!.privateKey)).ok,
    false,
    'a key the managed user put in authorized_keys2 is refused',
  );

  // Rotation: dev's key is replaced in the source. A copy of the old key kept in authorized_keys2 opens nothing.
  plantKey(dev, 'authorized_keys2', devKey!.publicLine);
  assertDone(
    await syncedWith(source, {
      [admin]: { sshPublicKeys: [adminKey!.publicLine], sudo: true },
      [dev]: { sshPublicKeys: [devKey2!.publicLine] },
    }),
  );
  assert.equal((await sshLogin(sshd.port, dev, devKey!.privateKey)).ok, false, 'the rotated-out key is refused');
  assert.ok((await sshLogin(sshd.port, dev, devKey2!.privateKey)).ok, 'the new key logs in');

  // Removal (lock): the session dev has open is ended, and even the key put back by hand logs in no more.
  const session = sshSession(sshd.port, dev, devKey2!.privateKey, 300);
  t.after(() => void session.child.kill('SIGKILL'));
  await started(session.child);
  const removed = await syncedWith(source, { [admin]: { sshPublicKeys: [adminKey!.publicLine], sudo: true } });
  assertDone(removed);
  assert.deepEqual(
    removed.steps.map((step) => `${step.kind} ${step.user}`),
    [`lock-user ${dev}`, `end-sessions ${dev}`],
  );
  assert.notEqual(
    await Promise.race([session.exited, delay(20_000).then(() => 'still running')]),
    'still running',
    'the open session was ended',
  );
  plantKey(dev, 'authorized_keys', devKey2!.publicLine);
  assert.equal(
    (await sshLogin(sshd.port, dev, devKey2!.privateKey)).ok,
    false,
    'locked and expired: a key put back does not log in',
  );
  assert.ok((await sshLogin(sshd.port, admin, adminKey!.privateKey)).ok, 'the other user still logs in');
});

test('an expired user is refused by sshd with the agent not running; the next sync drops keys and sudo', async (t) => {
  requireRoot();
  const dir = scratchDir(t, 'eha-expiry-');
  const [keep, temp] = testNames(2) as [string, string];
  cleanUpThisMachine(t, [keep, temp]);
  const sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const key = newKeyPair(dir, 'temp');
  const source = `${dir}/users.json`;
  const expires = new Date(Date.now() - 25 * 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  writeUsersFile(source, {
    [keep]: { sshPublicKeys: [key.publicLine] },
    [temp]: { sshPublicKeys: [key.publicLine], sudo: true, expires },
  });

  // The agent last ran three days ago (by its clock): temp was valid then, and got keys, sudo and its expiry day.
  const past = await run('faketime', ['-f', '-3d', process.execPath, CLI, 'users', 'sync', '--config', '/dev/null'], {
    USERS_SOURCE: `file:${source}`,
  });
  assert.equal(past.status, 0, past.stderr);
  await sshd.reload();
  assert.ok(readFileSync(`/home/${temp}/.ssh/authorized_keys`, 'utf8').includes(key.publicLine), 'keys written');
  assert.ok(membersOf(USERS.sudoGroup).includes(temp));
  const day = Math.ceil(Date.parse(expires) / 86_400_000);
  assert.equal(shadowOf(temp).split(':')[7], String(day), 'the expiry day is in shadow');

  // Since then no agent ran: the key is still there, and PAM refuses the account all the same.
  assert.ok((await sshLogin(sshd.port, keep, key.privateKey)).ok, 'the key itself is fine');
  assert.equal((await sshLogin(sshd.port, temp, key.privateKey)).ok, false, 'the expired account is refused');

  const now = await syncedWith(source, {
    [keep]: { sshPublicKeys: [key.publicLine] },
    [temp]: { sshPublicKeys: [key.publicLine], sudo: true, expires },
  });
  assertDone(now);
  assert.deepEqual(
    now.steps.map((step) => step.summary),
    [
      `remove ${temp}'s authorized_keys (expired at ${expires})`,
      `set the members of ${USERS.sudoGroup}: remove ${temp}`,
    ],
  );
  assert.equal(statSync(`/home/${temp}/.ssh/authorized_keys`, { throwIfNoEntry: false }), undefined);
  assert.ok(!membersOf(USERS.sudoGroup).includes(temp));
});

test('USERS_REMOVE=delete with a process running: locked at once, processes ended, deleted later', async (t) => {
  requireRoot();
  const dir = scratchDir(t, 'eha-delete-');
  const [keep, leaving] = testNames(2) as [string, string];
  cleanUpThisMachine(t, [keep, leaving]);
  const sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const key = newKeyPair(dir, 'key');
  const source = `${dir}/users.json`;
  assertDone(
    await syncedWith(source, {
      [keep]: { sshPublicKeys: [key.publicLine] },
      [leaving]: { sshPublicKeys: [key.publicLine] },
    }),
  );
  await sshd.reload();
  const { uid, gid } = idOf(leaving);
  const asUser = ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', 'sleep', '300'];
  // One process in this PID namespace (a shell the user left running), one in its own (a container as that uid).
  const plain = spawnGroup(t, asUser);
  const contained = spawnGroup(t, ['unshare', '--pid', '--fork', ...asUser]);
  await waitFor(() => processesOf(uid).length === 2, 'both processes of the user to run');

  const first = await syncedWith(source, { [keep]: { sshPublicKeys: [key.publicLine] } }, { USERS_REMOVE: 'delete' });
  assert.deepEqual(
    first.steps.map((step) => `${step.kind} ${step.error === undefined ? 'ok' : 'failed'}`),
    ['lock-user ok', 'end-sessions ok', 'delete-user failed'],
  );
  assert.match(
    first.steps[2]?.error ?? '',
    /currently used by process \d+; the account stays locked and its deletion is tried again at the next sync$/,
  );
  assert.match(shadowOf(leaving), /^[^:]+:!\*:\d+:0:99999:7::1:$/, 'locked and expired at once');
  assert.equal(statSync(`/home/${leaving}/.ssh/authorized_keys`, { throwIfNoEntry: false }), undefined, 'keys removed');
  assert.equal((await sshLogin(sshd.port, leaving, key.privateKey)).ok, false);
  await waitFor(() => plain.exitCode !== null || plain.signalCode !== null, 'the process in this namespace to end');
  assert.equal(plain.signalCode, 'SIGKILL');
  assert.equal(contained.exitCode, null, 'a process in another PID namespace is never killed by the agent');

  process.kill(-(contained.pid as number), 'SIGKILL');
  await waitFor(() => processesOf(uid).length === 0, 'the contained process to end');
  const second = await syncedWith(source, { [keep]: { sshPublicKeys: [key.publicLine] } }, { USERS_REMOVE: 'delete' });
  assertDone(second);
  assert.deepEqual(
    second.steps.map((step) => `${step.kind} ${step.user}`),
    [`delete-user ${leaving}`],
  );
  assert.equal(shadowOf(leaving), '');
  assert.equal(existsSync(`/home/${leaving}`), false);
  const state = JSON.parse(readFileSync(USERS.stateFile, 'utf8')) as { managedUsers: string[]; retiredUids: number[] };
  assert.ok(!state.managedUsers.includes(leaving) && state.retiredUids.includes(uid), 'forgotten, its uid retired');
});

/** A process in a group of its own, killed by group when the test ends. */
function spawnGroup(t: TestContext, argv: readonly string[]): ChildProcess {
  const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: 'ignore' });
  t.after(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  return child;
}

/** PIDs whose real uid is `uid`, zombies left out. */
function processesOf(uid: number): number[] {
  return execFileSync('ps', ['-e', '-o', 'pid=,uid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, owner, stat]) => Number(owner) === uid && !stat?.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (condition()) return;
    await delay(50);
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function started(child: ChildProcess): Promise<void> {
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('started')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the ssh session ended before it started (${code})`)));
  });
}

function run(
  file: string,
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ status: number | null; stderr: string }> {
  const baseEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { encoding: 'utf8', env: { ...baseEnv, ...env }, timeout: 120_000 },
      (error, _stdout, stderr) =>
        resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stderr }),
    );
  });
}

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { USERS } from '../../../src/concerns/users/settings.ts';
import { syncUsers } from '../../../src/concerns/users/sync.ts';
import { requireRoot, scratchDir } from '../../support/scratch.ts';
import { type Sshd, sshLogin, startSshd } from '../../support/sshd.ts';
import { newKeyPair, usersContext, writeUsersFile } from './users-root.ts';

/**
 * The real thing: sshd authenticates against this machine's accounts, so
 * this test syncs real users into "/" under unique eha-test- names and
 * removes them, the agent's groups, sudoers file and state afterwards.
 */
function cleanUpThisMachine(t: TestContext, names: readonly string[]): void {
  const restore = (path: string) => {
    const previous = existsSync(path) ? readFileSync(path) : null;
    return () => (previous === null ? rmSync(path, { force: true }) : writeFileSync(path, previous));
  };
  const groups = [USERS.markerGroup, USERS.sudoGroup].filter((group) => !readFileSync('/etc/group', 'utf8').includes(`\n${group}:`));
  const steps = [
    ...names.map((name) => () => execFileSync('userdel', ['--remove', '--', name], { stdio: 'ignore' })),
    ...groups.map((group) => () => execFileSync('groupdel', ['--', group], { stdio: 'ignore' })),
    restore(USERS.sudoersFile),
    restore(USERS.stateFile),
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

test('a synced user logs in with its key, loses access when its key or entry goes; sudo users get a valid sudoers file', async (t) => {
  requireRoot();
  const dir = scratchDir(t, 'eha-sshd-');
  const prefix = `eha-test-${randomBytes(3).toString('hex')}`;
  const [admin, dev] = [`${prefix}-a`, `${prefix}-b`];
  cleanUpThisMachine(t, [admin, dev]);
  const sshd: Sshd = await startSshd(dir);
  t.after(() => sshd.stop());
  const adminKey = newKeyPair(dir, 'admin');
  const devKey = newKeyPair(dir, 'dev');
  const source = `${dir}/users.json`;
  const context = await usersContext('/', { USERS_SOURCE: `file:${source}` });
  const sync = async (document: unknown) => {
    writeUsersFile(source, document);
    const report = await syncUsers(context, { dryRun: false });
    assert.deepEqual(report.problems, []);
    assert.ok(report.steps.every((step) => step.done), JSON.stringify(report.steps));
  };

  await sync({ [admin]: { sshPublicKeys: [adminKey.publicLine], sudo: true }, [dev]: { sshPublicKeys: [devKey.publicLine] } });
  const adminLogin = await sshLogin(sshd.port, admin, adminKey.privateKey, 'id -un && sudo -n true && echo sudo-ok');
  assert.ok(adminLogin.ok, adminLogin.stderr);
  assert.equal(adminLogin.stdout, `${admin}\nsudo-ok\n`);
  const devLogin = await sshLogin(sshd.port, dev, devKey.privateKey, 'sudo -n true');
  assert.equal(devLogin.ok, false, 'no sudo without "sudo": true');
  assert.match(devLogin.stderr, /password is required|not in the sudoers|may not run sudo/);
  assert.ok((await sshLogin(sshd.port, dev, devKey.privateKey)).ok, 'but dev logs in');
  assert.equal((await sshLogin(sshd.port, dev, adminKey.privateKey)).ok, false, "another user's key does not open dev");
  execFileSync('visudo', ['-cf', USERS.sudoersFile]);

  await sync({ [admin]: { sshPublicKeys: [adminKey.publicLine], sudo: true }, [dev]: { sshPublicKeys: [] } });
  assert.equal((await sshLogin(sshd.port, dev, devKey.privateKey)).ok, false, 'key removed from the source: login fails');

  await sync({ [admin]: { sshPublicKeys: [adminKey.publicLine], sudo: true } });
  writeFileSync(`/home/${dev}/.ssh/authorized_keys`, `${devKey.publicLine}\n`);
  execFileSync('chown', [`${dev}:`, `/home/${dev}/.ssh/authorized_keys`]);
  const locked = await sshLogin(sshd.port, dev, devKey.privateKey);
  assert.equal(locked.ok, false, 'gone from the source: locked and expired, so even a key put back does not log in');
  assert.ok((await sshLogin(sshd.port, admin, adminKey.privateKey)).ok, 'the other user still logs in');
});

test('symlink attack on this machine: ~/.ssh pointing at a root-owned file is refused, the file unchanged', async (t) => {
  requireRoot();
  const dir = scratchDir(t, 'eha-symlink-');
  const name = `eha-test-${randomBytes(3).toString('hex')}-c`;
  cleanUpThisMachine(t, [name]);
  const source = `${dir}/users.json`;
  const context = await usersContext('/', { USERS_SOURCE: `file:${source}` });
  writeUsersFile(source, { [name]: { sshPublicKeys: [newKeyPair(dir, 'first').publicLine] } });
  await syncUsers(context, { dryRun: false });

  const victim = `${dir}/root-owned`;
  writeFileSync(victim, 'root:precious\n', { mode: 0o600 });
  rmSync(`/home/${name}/.ssh`, { recursive: true });
  symlinkSync(victim, `/home/${name}/.ssh`);
  writeUsersFile(source, { [name]: { sshPublicKeys: [newKeyPair(dir, 'second').publicLine] } });
  const report = await syncUsers(context, { dryRun: false });
  assert.deepEqual(report.problems, [{ user: name, error: `/home/${name}/.ssh is a symbolic link; refusing to follow it; its keys were left as they are` }]);
  assert.deepEqual(report.steps, []);
  assert.equal(readFileSync(victim, 'utf8'), 'root:precious\n');
  assert.deepEqual([statSync(victim).uid, statSync(victim).mode & 0o777], [0, 0o600]);
});

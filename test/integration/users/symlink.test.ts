import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { syncUsers } from '../../../src/concerns/users/sync.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { UnsafePathError } from '../../../src/host/host.ts';
import { scratchDir } from '../../support/scratch.ts';
import { accountsRoot, newKeyPair, usersContext, writeUsersFile } from './users-root.ts';

test('symlinked ~/.ssh or authorized_keys: refused and reported, targets unchanged, other users synced', async (t) => {
  const root = accountsRoot(t);
  const context = await usersContext(root, { USERS_SOURCE: 'file:/users.json', USERS_MAX_REMOVALS: '2' });
  const first = newKeyPair(root, 'first').publicLine;
  const second = newKeyPair(root, 'second').publicLine;
  writeUsersFile(`${root}/users.json`, {
    alice: { sshPublicKeys: [first] },
    bob: { sshPublicKeys: [first] },
    carol: { sshPublicKeys: [first] },
  });
  await syncUsers(context, { dryRun: false });
  const shadow = readFileSync(`${root}/etc/shadow`, 'utf8');

  rmSync(`${root}/home/alice/.ssh`, { recursive: true });
  symlinkSync('/etc', `${root}/home/alice/.ssh`);
  rmSync(`${root}/home/bob/.ssh/authorized_keys`);
  symlinkSync('/etc/shadow', `${root}/home/bob/.ssh/authorized_keys`);
  writeUsersFile(`${root}/users.json`, {
    alice: { sshPublicKeys: [second] },
    bob: { sshPublicKeys: [second] },
    carol: { sshPublicKeys: [second] },
  });
  const report = await syncUsers(context, { dryRun: false });

  assert.deepEqual(report.problems, [
    {
      user: 'alice',
      error: '/home/alice/.ssh is a symbolic link; refusing to follow it; its keys were left as they are',
    },
    {
      user: 'bob',
      error: '/home/bob/.ssh/authorized_keys is a symbolic link; refusing to follow it; its keys were left as they are',
    },
  ]);
  assert.deepEqual(
    report.steps.map((step) => `${step.kind} ${step.user}`),
    ['write-keys carol'],
  );
  assert.equal(readFileSync(`${root}/etc/shadow`, 'utf8'), shadow);
  assert.equal(lstatSync(`${root}/etc/authorized_keys`, { throwIfNoEntry: false }), undefined);
  assert.ok(lstatSync(`${root}/home/bob/.ssh/authorized_keys`).isSymbolicLink());

  // Gone from the source: the account is locked; the planted link is removed, never its target.
  writeUsersFile(`${root}/users.json`, { carol: { sshPublicKeys: [second] } });
  const locked = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    locked.steps.map((step) => `${step.kind} ${step.user} ${step.error ?? 'ok'}`),
    ['lock-user alice ok', 'lock-user bob ok'],
  );
  assert.deepEqual(
    locked.problems,
    [
      {
        user: 'alice',
        error:
          '/home/alice/.ssh is a symbolic link; refusing to follow it; ' +
          'the account is locked and expired, so whatever is there does not log in',
      },
    ],
    "bob's link is gone with the lock: nothing is reported as left in place",
  );
  assert.equal(lstatSync(`${root}/home/bob/.ssh/authorized_keys`, { throwIfNoEntry: false }), undefined);
  assert.match(readFileSync(`${root}/etc/shadow`, 'utf8'), /^bob:!\*:\d+:0:99999:7::1:$/m);
  assert.equal(
    readFileSync(`${root}/etc/shadow`, 'utf8').replace(/^(alice|bob):.*\n/gm, ''),
    shadow.replace(/^(alice|bob):.*\n/gm, ''),
  );
});

test('a home directory that is a symbolic link is refused: nothing written through it, never removed', async (t) => {
  const root = accountsRoot(t);
  const context = await usersContext(root, { USERS_SOURCE: 'file:/users.json', USERS_REMOVE: 'delete' });
  const key = newKeyPair(root, 'key').publicLine;
  writeUsersFile(`${root}/users.json`, { dave: { sshPublicKeys: [key] }, erin: { sshPublicKeys: [key] } });
  await syncUsers(context, { dryRun: false });
  const victim = `${root}/victim`;
  mkdirSync(`${victim}/.ssh`, { recursive: true });
  writeFileSync(`${victim}/.ssh/authorized_keys`, 'precious\n');
  rmSync(`${root}/home/dave`, { recursive: true });
  symlinkSync(victim, `${root}/home/dave`);

  writeUsersFile(`${root}/users.json`, {
    dave: { sshPublicKeys: [newKeyPair(root, 'other').publicLine] },
    erin: { sshPublicKeys: [key] },
  });
  const refused = await syncUsers(context, { dryRun: false });
  assert.deepEqual(refused.problems, [
    {
      user: 'dave',
      error: 'the home directory /home/dave is a symbolic link; refusing to follow it; its keys were left as they are',
    },
  ]);
  assert.deepEqual(refused.steps, []);
  assert.equal(readFileSync(`${victim}/.ssh/authorized_keys`, 'utf8'), 'precious\n');

  writeUsersFile(`${root}/users.json`, { erin: { sshPublicKeys: [key] } });
  const deleted = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    deleted.steps.map((step) => `${step.summary} ${step.error ?? 'ok'}`),
    [
      'lock user dave (gone from the source) ok',
      'delete user dave (its home is not a directory: left as it is) (gone from the source; USERS_REMOVE=delete) ok',
    ],
  );
  assert.equal(readFileSync(`${victim}/.ssh/authorized_keys`, 'utf8'), 'precious\n', 'the link target is untouched');
  assert.ok(lstatSync(`${root}/home/dave`).isSymbolicLink());
});

test('no-follow primitives: a swapped-in link, a FIFO or a file in the way are refused', async (t) => {
  const dir = scratchDir(t, 'eha-nofollow-');
  const host = new RealHost('/');
  writeFileSync(`${dir}/victim`, 'precious');
  symlinkSync(dir, `${dir}/linkdir`);
  await assert.rejects(host.writeFileNoFollow(dir, 'linkdir/victim', 'x', { dirMode: 0o700 }), UnsafePathError);
  await assert.rejects(host.readFileNoFollow(dir, 'linkdir/victim', 100), /linkdir is a symbolic link/);
  await assert.rejects(host.removeNoFollow(dir, 'linkdir/victim'), UnsafePathError);
  assert.equal(readFileSync(`${dir}/victim`, 'utf8'), 'precious');

  execFileSync('mkfifo', [`${dir}/fifo`]);
  await assert.rejects(host.readFileNoFollow(dir, 'fifo', 100), /fifo is not a regular file/);
  await assert.rejects(host.writeFileNoFollow(dir, 'victim/x', 'x', { dirMode: 0o700 }), /victim is not a directory/);

  await host.writeFileNoFollow(dir, 'a/b/file', 'data', { mode: 0o600, uid: 65534, gid: 65534, dirMode: 0o700 });
  const file = await host.readFileNoFollow(dir, 'a/b/file', 2);
  assert.deepEqual([Buffer.from(file?.data ?? []).toString(), file?.info.mode, file?.info.uid], ['da', 0o600, 65534]);
  assert.deepEqual([lstatSync(`${dir}/a`).mode & 0o777, lstatSync(`${dir}/a/b`).uid], [0o700, 65534]);
  assert.equal(await host.readFileNoFollow(dir, 'missing/file', 10), null);
  await host.removeNoFollow(dir, 'a/b/file');
  assert.equal(await host.readFileNoFollow(dir, 'a/b/file', 10), null);

  // In place (a home just made): created with O_EXCL, so neither a file nor a link already there is written through.
  const inPlace = { mode: 0o600, uid: 65534, gid: 65534, dirMode: 0o700, exclusive: true, durable: false };
  await host.writeFileNoFollow(dir, 'c/new', 'fresh', inPlace);
  assert.deepEqual([readFileSync(`${dir}/c/new`, 'utf8'), lstatSync(`${dir}/c/new`).mode & 0o777], ['fresh', 0o600]);
  assert.deepEqual(readdirSync(`${dir}/c`), ['new'], 'no temporary file');
  await assert.rejects(host.writeFileNoFollow(dir, 'c/new', 'again', inPlace), /EEXIST/);
  symlinkSync(`${dir}/victim`, `${dir}/c/link`);
  await assert.rejects(host.writeFileNoFollow(dir, 'c/link', 'x', inPlace), /EEXIST/);
  assert.equal(readFileSync(`${dir}/victim`, 'utf8'), 'precious');
});

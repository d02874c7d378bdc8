import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';

import { createUsersConcern } from '../../../src/concerns/users/index.ts';
import { syncUsers } from '../../../src/concerns/users/sync.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { RealHost } from '../../../src/host/real-host.ts';
import { runCli } from '../../support/cli.ts';
import { accountsRoot, newKeyPair, snapshot, usersContext, writeUsersFile } from './users-root.ts';

const concern = createUsersConcern();
const HOST_FILES = ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow'];

/** This machine's account files, less what the real-sshd test (which may run meanwhile) adds and removes. */
function hostAccounts(): string[] {
  return HOST_FILES.map((path) => readFileSync(path, 'utf8').replace(/^(eha-test-|ecs-host-agent-).*\n/gm, ''));
}

function line(root: string, file: string, name: string): string | undefined {
  return readFileSync(`${root}/etc/${file}`, 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
}

async function planOf(context: ConcernContext) {
  return concern.plan(await concern.gather(context), context);
}

test('real account tools on a scratch root: create, update, no-op, lock, unlock, delete; this machine untouched', async (t) => {
  const hostBefore = hostAccounts();
  const root = accountsRoot(t);
  const source = `${root}/users.json`;
  const alice = newKeyPair(root, 'alice');
  const bob = newKeyPair(root, 'bob');
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], sudo: true },
    bob: { sshPublicKeys: [bob.publicLine, alice.publicLine], groups: ['users'] },
  });
  const env = { USERS_SOURCE: 'file:/users.json' };
  const context = await usersContext(root, env);

  const created = await syncUsers(context, { dryRun: false });
  assert.deepEqual(created.problems, []);
  assert.ok(created.steps.every((step) => step.done), JSON.stringify(created.steps));
  assert.match(line(root, 'passwd', 'alice') ?? '', /^alice:x:\d+:\d+:managed by ecs-host-agent:\/home\/alice:\/bin\/bash$/);
  assert.match(line(root, 'shadow', 'alice') ?? '', /^alice:\*:/, 'password "*": no password, key login allowed');
  assert.equal(line(root, 'group', 'ecs-host-agent-sudo')?.split(':')[3], 'alice');
  assert.equal(line(root, 'group', 'users')?.split(':')[3], 'bob');
  const aliceKeys = `${root}/home/alice/.ssh/authorized_keys`;
  assert.equal(readFileSync(aliceKeys, 'utf8').split('\n')[1], alice.publicLine);
  const uid = Number(line(root, 'passwd', 'alice')?.split(':')[2]);
  assert.deepEqual([statSync(aliceKeys).mode & 0o777, statSync(aliceKeys).uid], [0o600, uid]);
  assert.deepEqual([statSync(`${root}/home/alice/.ssh`).mode & 0o777, statSync(`${root}/home/alice/.ssh`).uid], [0o700, uid]);
  assert.match(readFileSync(`${root}/etc/sudoers.d/ecs-host-agent`, 'utf8'), /^%ecs-host-agent-sudo ALL=\(ALL:ALL\) NOPASSWD: ALL$/m);
  assert.deepEqual(await planOf(context), [], 'after apply, plan(gather()) is empty');

  // No-op: no tool runs, no file is rewritten.
  const commands: string[][] = [];
  const watched = { ...context, host: new RealHost(root, (argv) => commands.push([...argv])) };
  const before = snapshot(root);
  const mtime = statSync(aliceKeys).mtimeMs;
  const noop = await syncUsers(watched, { dryRun: false });
  assert.deepEqual([noop.steps, commands], [[], []]);
  assert.deepEqual(snapshot(root), before);
  assert.equal(statSync(aliceKeys).mtimeMs, mtime);

  // Update: alice loses sudo and gains a group, bob drops a key; carol is new.
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] },
    bob: { sshPublicKeys: [bob.publicLine] },
  });
  const updated = await syncUsers(context, { dryRun: false });
  assert.deepEqual(updated.steps.map((step) => `${step.kind} ${step.user}`), ['modify-user alice', 'modify-user bob', 'write-keys bob']);
  assert.equal(line(root, 'group', 'ecs-host-agent-sudo')?.split(':')[3], '');
  assert.equal(line(root, 'group', 'users')?.split(':')[3], 'alice');
  assert.equal(readFileSync(`${root}/home/bob/.ssh/authorized_keys`, 'utf8').trim().split('\n').length, 2, 'header and one key');

  // Lock: bob is gone from the source.
  writeUsersFile(source, { alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] } });
  const locked = await syncUsers(context, { dryRun: false });
  assert.deepEqual(locked.steps.map((step) => `${step.kind} ${step.user}`), ['lock-user bob']);
  assert.match(line(root, 'shadow', 'bob') ?? '', /^bob:!\*:\d+:0:99999:7::1:$/, 'locked and expired');
  assert.equal(statSync(`${root}/home/bob/.ssh/authorized_keys`, { throwIfNoEntry: false }), undefined);
  assert.deepEqual(await planOf(context), []);

  // Back in the source: unlocked, keys again.
  writeUsersFile(source, { alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] }, bob: { sshPublicKeys: [bob.publicLine] } });
  const back = await syncUsers(context, { dryRun: false });
  assert.deepEqual(back.steps.map((step) => `${step.kind} ${step.user}`), ['modify-user bob', 'write-keys bob']);
  assert.match(line(root, 'shadow', 'bob') ?? '', /^bob:\*:\d+:0:99999:7:::$/);

  // Delete with USERS_REMOVE=delete, through the CLI.
  writeUsersFile(source, { alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] } });
  const deleted = await runCli(['users', 'sync', '--root', root, '--json'], { ...env, USERS_REMOVE: 'delete' });
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.deepEqual(JSON.parse(deleted.stdout).steps.map((step: { summary: string }) => step.summary), [
    'delete user bob and its home (gone from the source; USERS_REMOVE=delete)',
  ]);
  assert.equal(line(root, 'passwd', 'bob'), undefined);
  assert.equal(statSync(`${root}/home/bob`, { throwIfNoEntry: false }), undefined);
  assert.deepEqual(JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/users.json`, 'utf8')), { managedUsers: ['alice'] });
  assert.deepEqual(await planOf(await usersContext(root, { ...env, USERS_REMOVE: 'delete' })), []);

  assert.deepEqual(hostAccounts(), hostBefore, "this machine's account files are unchanged");
});

test('users sync --dry-run prints the real commands and changes nothing; existing accounts are conflicts', async (t) => {
  const root = accountsRoot(t);
  const alice = newKeyPair(root, 'alice');
  writeUsersFile(`${root}/users.json`, { alice: { sshPublicKeys: [alice.publicLine] }, news: { sshPublicKeys: [] } });
  const before = snapshot(root);
  const result = await runCli(['users', 'sync', '--dry-run', '--root', root], { USERS_SOURCE: 'file:/users.json' });
  assert.equal(result.status, 1, 'a rejected entry makes the exit status 1');
  assert.match(result.stdout, /planned create user alice \(1 key\)/);
  assert.match(result.stdout, /useradd --create-home --home-dir \/home\/alice --shell \/bin\/bash --user-group --groups ecs-host-agent-users --comment 'managed by ecs-host-agent' --password '\*' -- alice/);
  assert.match(result.stdout, /"news": user name is reserved for a system account/);
  assert.deepEqual(snapshot(root), before);
  assert.equal(statSync(`${root}/var`, { throwIfNoEntry: false }), undefined, 'no state file either');
});

test('an account that exists but was not created by the agent is reported as a conflict and left alone', async (t) => {
  const root = accountsRoot(t);
  const context = await usersContext(root, { USERS_SOURCE: 'file:/users.json' });
  await context.host.exec('useradd', ['--create-home', '--', 'dave']);
  const before = snapshot(root);
  writeUsersFile(`${root}/users.json`, { dave: { sshPublicKeys: [newKeyPair(root, 'dave').publicLine], sudo: true } });
  const report = await syncUsers(context, { dryRun: false });
  assert.deepEqual(report.problems, [{ user: 'dave', error: 'the account dave already exists and was not created by ecs-host-agent; skipped' }]);
  assert.ok(!report.steps.some((step) => step.user === 'dave'));
  assert.equal(snapshot(root).get('/home/dave'), before.get('/home/dave'));
  assert.equal(statSync(`${root}/home/dave/.ssh`, { throwIfNoEntry: false }), undefined);
});

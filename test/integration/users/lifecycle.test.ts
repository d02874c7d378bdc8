import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
  return readFileSync(`${root}/etc/${file}`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
}

async function planOf(context: ConcernContext) {
  return concern.plan(await concern.gather(context), context);
}

test('real account tools on a scratch root: create, update, no-op, lock, unlock, delete', async (t) => {
  const hostBefore = hostAccounts();
  const root = accountsRoot(t);
  const source = `${root}/users.json`;
  const alice = newKeyPair(root, 'alice');
  const bob = newKeyPair(root, 'bob');
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], sudo: true },
    bob: { sshPublicKeys: [bob.publicLine, alice.publicLine], groups: ['users'] },
  });
  const env = { USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users' };
  const context = await usersContext(root, env);

  const created = await syncUsers(context, { dryRun: false });
  assert.deepEqual(created.problems, []);
  assert.ok(
    created.steps.every((step) => step.done),
    JSON.stringify(created.steps),
  );
  assert.equal(line(root, 'passwd', 'alice'), 'alice:x:1000:1000:managed by ecs-host-agent:/home/alice:/bin/bash');
  assert.match(
    line(root, 'shadow', 'alice') ?? '',
    /^alice:\*:\d+:0:99999:7:::$/,
    'password "*": no password, key login allowed',
  );
  assert.equal(line(root, 'group', 'ecs-host-agent-sudo')?.split(':')[3], 'alice');
  assert.equal(line(root, 'gshadow', 'ecs-host-agent-sudo')?.split(':')[3], 'alice');
  assert.equal(line(root, 'group', 'users')?.split(':')[3], 'bob');
  assert.equal(line(root, 'group', 'ecs-host-agent-users')?.split(':')[3], 'alice,bob');
  const aliceKeys = `${root}/home/alice/.ssh/authorized_keys`;
  assert.equal(readFileSync(aliceKeys, 'utf8').split('\n')[1], alice.publicLine);
  assert.deepEqual([statSync(aliceKeys).mode & 0o777, statSync(aliceKeys).uid], [0o600, 1000]);
  assert.deepEqual(
    [statSync(`${root}/home/alice/.ssh`).mode & 0o777, statSync(`${root}/home/alice/.ssh`).uid],
    [0o700, 1000],
  );
  assert.deepEqual(
    [statSync(`${root}/home/alice`).mode & 0o777, statSync(`${root}/home/alice`).uid],
    [0o755, 1000],
    'newusers made the home',
  );
  for (const file of readdirSync(`${root}/etc/skel`)) {
    assert.equal(
      readFileSync(`${root}/home/bob/${file}`, 'utf8'),
      readFileSync(`${root}/etc/skel/${file}`, 'utf8'),
      `${file} copied from skel`,
    );
    assert.equal(statSync(`${root}/home/bob/${file}`).uid, 1001);
  }
  assert.match(
    readFileSync(`${root}/etc/sudoers.d/ecs-host-agent`, 'utf8'),
    /^%ecs-host-agent-sudo ALL=\(ALL:ALL\) NOPASSWD: ALL$/m,
  );
  assert.match(
    readFileSync(`${root}/etc/ssh/sshd_config.d/00-ecs-host-agent.conf`, 'utf8'),
    /^Match Group ecs-host-agent-users\n\tAuthorizedKeysFile \.ssh\/authorized_keys$/m,
  );
  assert.deepEqual(JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/users.json`, 'utf8')), {
    managedUsers: ['alice', 'bob'],
    creating: [],
    retiredUids: [],
  });
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

  // Update: alice loses sudo and gains a group, bob leaves it and drops a key.
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] },
    bob: { sshPublicKeys: [bob.publicLine] },
  });
  const updated = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    updated.steps.map((step) => step.summary),
    [
      'set the members of ecs-host-agent-sudo: remove alice',
      'set the members of users: add alice; remove bob',
      "write bob's authorized_keys (1 key)",
    ],
  );
  assert.equal(line(root, 'group', 'ecs-host-agent-sudo')?.split(':')[3], '');
  assert.equal(line(root, 'group', 'users')?.split(':')[3], 'alice');
  assert.equal(
    readFileSync(`${root}/home/bob/.ssh/authorized_keys`, 'utf8').trim().split('\n').length,
    2,
    'header and one key',
  );

  // Lock: bob is gone from the source.
  writeUsersFile(source, { alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] } });
  const locked = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    locked.steps.map((step) => `${step.kind} ${step.user}`),
    ['lock-user bob'],
  );
  assert.match(line(root, 'shadow', 'bob') ?? '', /^bob:!\*:\d+:0:99999:7::1:$/, 'locked and expired');
  assert.equal(statSync(`${root}/home/bob/.ssh/authorized_keys`, { throwIfNoEntry: false }), undefined);
  assert.deepEqual(await planOf(context), []);

  // Back in the source: unlocked, keys again.
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] },
    bob: { sshPublicKeys: [bob.publicLine] },
  });
  const back = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    back.steps.map((step) => step.kind),
    ['modify-user', 'set-passwords', 'write-keys'],
  );
  assert.match(line(root, 'shadow', 'bob') ?? '', /^bob:\*:\d+:0:99999:7:::$/);

  // Delete with USERS_REMOVE=delete, through the CLI: locked first, then deleted, its uid retired.
  writeUsersFile(source, { alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] } });
  const deleted = await runCli(['users', 'sync', '--root', root, '--json'], { ...env, USERS_REMOVE: 'delete' });
  assert.equal(deleted.status, 0, deleted.stderr);
  assert.deepEqual(
    JSON.parse(deleted.stdout).steps.map((step: { summary: string }) => step.summary),
    [
      'lock user bob (gone from the source)',
      'delete user bob and its home (gone from the source; USERS_REMOVE=delete)',
    ],
  );
  assert.equal(line(root, 'passwd', 'bob'), undefined);
  assert.equal(line(root, 'group', 'bob'), undefined);
  assert.equal(statSync(`${root}/home/bob`, { throwIfNoEntry: false }), undefined);
  assert.deepEqual(JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/users.json`, 'utf8')), {
    managedUsers: ['alice'],
    creating: [],
    retiredUids: [1001],
  });
  assert.deepEqual(await planOf(await usersContext(root, { ...env, USERS_REMOVE: 'delete' })), []);

  // bob's uid is now the highest free one, which useradd would hand out again; the agent never does.
  writeUsersFile(source, {
    alice: { sshPublicKeys: [alice.publicLine], groups: ['users'] },
    carol: { sshPublicKeys: [bob.publicLine] },
  });
  await syncUsers(context, { dryRun: false });
  assert.equal(line(root, 'passwd', 'carol'), 'carol:x:1002:1002:managed by ecs-host-agent:/home/carol:/bin/bash');

  assert.deepEqual(hostAccounts(), hostBefore, "this machine's account files are unchanged");
});

test('users sync --dry-run prints the real commands, changes nothing; existing accounts are conflicts', async (t) => {
  const root = accountsRoot(t);
  const alice = newKeyPair(root, 'alice');
  writeUsersFile(`${root}/users.json`, { alice: { sshPublicKeys: [alice.publicLine] }, news: { sshPublicKeys: [] } });
  const before = snapshot(root);
  const result = await runCli(['users', 'sync', '--dry-run', '--root', root], { USERS_SOURCE: 'file:/users.json' });
  assert.equal(result.status, 1, 'a rejected entry makes the exit status 1');
  assert.match(
    result.stdout,
    /planned create 1 account: alice\n {12}newusers <<< "alice::1000:1000:[^:]+:\/home\/alice:\/bin\/bash\\n"\n/,
  );
  assert.match(
    result.stdout,
    /planned set the members of ecs-host-agent-users: add alice\n {12}gpasswd -M alice -- ecs-host-agent-users\n/,
  );
  assert.match(result.stdout, /planned set up alice's home \(1 key\)/);
  // The key as ssh-keygen -l names it: "256 SHA256:… alice@test (ED25519)".
  const listed = execFileSync('ssh-keygen', ['-lf', `${alice.privateKey}.pub`], { encoding: 'utf8' });
  const fingerprint = listed.split(' ')[1];
  const shown = `\n              + ssh-ed25519 ${fingerprint} alice@test\n`;
  assert.ok(result.stdout.includes(shown), 'the key shown by its fingerprint');
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
  assert.deepEqual(report.problems, [
    { user: 'dave', error: 'the account dave already exists and was not created by ecs-host-agent; skipped' },
  ]);
  assert.ok(!report.steps.some((step) => step.user === 'dave'));
  assert.equal(snapshot(root).get('/home/dave'), before.get('/home/dave'));
  assert.equal(statSync(`${root}/home/dave/.ssh`, { throwIfNoEntry: false }), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyUsers } from '../../../src/concerns/users/apply.ts';
import type { UsersAction } from '../../../src/concerns/users/plan.ts';
import { SUDOERS_TEXT } from '../../../src/concerns/users/settings.ts';
import type { FakeHost } from '../../support/fake-host.ts';
import { KEY, kinds, machine, planWith, shown, withSshdDropIn } from './machine.ts';

/** Removal and expiry on a FakeHost: what is refused, in which order access ends, what userdel's refusal leaves. */

/** alice plus n more managed users, user0 … */
async function team(n: number, options: { locked?: readonly number[] } = {}): Promise<FakeHost> {
  const names = Array.from({ length: n }, (_, i) => `user${i}`);
  const locked = new Set(options.locked ?? []);
  const host = await withSshdDropIn(
    machine({
      markerMembers: ['alice', ...names].join(','),
      passwd: names.map((name, i) => `${name}:x:${1001 + i}:${1001 + i}::/home/${name}:/bin/bash\n`).join(''),
      group: names.map((name, i) => `${name}:x:${1001 + i}:\n`).join(''),
      shadow: names
        .map((name, i) => `${name}:${locked.has(i) ? '!*:20000:0:99999:7::1:' : '*:20000:0:99999:7:::'}\n`)
        .join(''),
      state: { managedUsers: ['alice', ...names] },
    }),
  );
  names.forEach((name, i) => host.directoryOwners.set(`/home/${name}`, { mode: 0o755, uid: 1001 + i, gid: 1001 + i }));
  for (const name of names) await host.mkdir(`/home/${name}`);
  return host;
}

const aliceOnly = { alice: { sshPublicKeys: [KEY] } };

test('an empty source is refused, nothing planned; USERS_MAX_REMOVALS=100% removes everybody', async () => {
  const host = await team(0);
  await assert.rejects(planWith(host, {}), (error: Error & { exitCode: number }) => {
    assert.equal(error.exitCode, 1);
    assert.equal(
      error.message,
      'control lists no users: an empty source is refused (a wrong prefix or path, or a document emptied by ' +
        'mistake, would remove every managed user); nothing was changed. ' +
        'To remove everybody, set USERS_MAX_REMOVALS=100%',
    );
    return true;
  });
  assert.deepEqual(kinds((await planWith(host, {}, 'USERS_MAX_REMOVALS=100%\n')).actions), ['lock-user alice']);
  assert.deepEqual(host.execCalls, []);
});

test('a source that shrinks sharply is refused as a whole; the default 10% still allows one removal', async () => {
  const host = await team(19);
  const keep = (n: number) =>
    Object.fromEntries([
      ['alice', { sshPublicKeys: [KEY] }],
      ...Array.from({ length: n }, (_, i) => [`user${i}`, { sshPublicKeys: [] }]),
    ]);
  assert.deepEqual(
    kinds((await planWith(host, keep(17))).actions),
    ['lock-user user17', 'lock-user user18'],
    '2 of 20 is 10%',
  );
  await assert.rejects(
    planWith(host, { ...keep(16), carol: { sshPublicKeys: [KEY] } }),
    new RegExp(
      '^UsersRemovalError: control would remove 3 of the 20 managed users in one sync \\(user16, user17, user18\\); ' +
        'USERS_MAX_REMOVALS=10% allows 2\\. Nothing was changed\\. If the source is right, raise USERS_MAX_REMOVALS ' +
        '\\(e\\.g\\. USERS_MAX_REMOVALS=3\\) for this sync$',
    ),
  );
  assert.equal((await planWith(host, keep(16), 'USERS_MAX_REMOVALS=3\n')).actions.length, 3);
  const small = await team(2);
  assert.deepEqual(
    kinds((await planWith(small, keep(1))).actions),
    ['lock-user user1'],
    '10% of 3 rounds down, but one removal is always allowed',
  );
  await assert.rejects(planWith(small, keep(1), 'USERS_MAX_REMOVALS=0\n'), /USERS_MAX_REMOVALS=0 allows 0/);
});

test('users locked by an earlier sync do not count again, in lock mode or when their deletion is retried', async () => {
  const host = await team(9, { locked: [0, 1, 2, 3, 4, 5, 6, 7] });
  assert.deepEqual(kinds((await planWith(host, { ...aliceOnly, user8: { sshPublicKeys: [] } })).actions), []);
  const retry = await planWith(host, { ...aliceOnly, user8: { sshPublicKeys: [] } }, 'USERS_REMOVE=delete\n');
  assert.equal(retry.actions.filter((action) => action.kind === 'delete-user').length, 8);
});

test('removal: lock first, then sessions and processes (own PID namespace, no zombies), then delete', async () => {
  const host = await team(1);
  host.putFile('/proc/100/status', 'Name:\tbash\nState:\tS (sleeping)\nUid:\t1001\t1001\t1001\t1001\nNSpid:\t100\n');
  host.putFile('/proc/101/status', 'Name:\tsleep\nState:\tS (sleeping)\nUid:\t0\t1001\t0\t0\nNSpid:\t101\n');
  host.putFile('/proc/102/status', 'Name:\tnode\nState:\tS (sleeping)\nUid:\t1001\t1001\t1001\t1001\nNSpid:\t102\t7\n');
  host.putFile('/proc/103/status', 'Name:\tdefunct\nState:\tZ (zombie)\nUid:\t1001\t1001\t1001\t1001\nNSpid:\t103\n');
  host.putFile('/proc/104/status', 'Name:\tcron\nState:\tS (sleeping)\nUid:\t0\t0\t0\t0\nNSpid:\t104\n');
  const { actions, context } = await planWith(host, aliceOnly, 'USERS_REMOVE=delete\n');
  assert.deepEqual(
    kinds(actions),
    ['lock-user user0', 'end-sessions user0', 'delete-user user0'],
    'user0 stays in the marker group until deleted',
  );
  assert.equal(actions[1]?.summary, "end user0's sessions and processes (2 processes: 100 101)");
  assert.deepEqual(shown(actions[2]), [
    'edit /var/lib/ecs-host-agent/users.json (mode 0600)',
    '  add to retiredUids: 1001',
    'userdel --remove -- user0',
    'userdel exiting 8 (processes left): the account stays locked, deleted at a later sync; ' +
      'exiting 12: deleted, its home left, the step fails',
    'edit /var/lib/ecs-host-agent/users.json (mode 0600)',
    '  remove from managedUsers and creating: user0',
  ]);

  host.onExec((file, args) => {
    if (file === 'kill') for (const pid of args.slice(3)) void host.rm(`/proc/${pid}/status`);
    return file === 'kill' || file === 'loginctl'
      ? { exitCode: file === 'loginctl' ? 1 : 0, stdout: '', stderr: 'Failed to connect to bus' }
      : undefined;
  });
  host.answer('usermod', {});
  await applyUsers(actions[0] as UsersAction, context);
  await applyUsers(actions[1] as UsersAction, context);
  assert.deepEqual(host.commands(), [
    'usermod -L -e 1 -- user0',
    'loginctl terminate-user -- user0',
    'kill -s KILL -- 100 101',
  ]);
  assert.ok(host.files.has('/proc/102/status'), 'a process in another PID namespace (a container) is never signalled');

  host.answer('userdel', { exitCode: 8, stderr: 'userdel: user user0 is currently used by process 103\n' });
  await assert.rejects(
    applyUsers(actions[2] as UsersAction, context),
    new RegExp(
      '^AgentError: userdel user0: userdel: user user0 is currently used by process 103; ' +
        'the account stays locked and its deletion is tried again at the next sync$',
    ),
  );
  assert.deepEqual(JSON.parse(host.text('/var/lib/ecs-host-agent/users.json') ?? ''), {
    managedUsers: ['alice', 'user0'],
    creating: [],
    retiredUids: [1001],
  });
  host.execHandlers.unshift((file) => (file === 'userdel' ? { exitCode: 0, stdout: '', stderr: '' } : undefined));
  await applyUsers(actions[2] as UsersAction, context);
  assert.deepEqual(JSON.parse(host.text('/var/lib/ecs-host-agent/users.json') ?? ''), {
    managedUsers: ['alice'],
    creating: [],
    retiredUids: [1001],
  });
});

test('processes that survive every SIGKILL round fail the step; the account stays locked', async () => {
  const host = await team(1);
  host.putFile('/proc/100/status', 'Name:\tbash\nState:\tD (disk sleep)\nUid:\t1001\t1001\t1001\t1001\nNSpid:\t100\n');
  const { actions, context } = await planWith(host, aliceOnly);
  host.answer('kill', {}).answer('loginctl', {});
  const end = actions.find((action) => action.kind === 'end-sessions') as UsersAction;
  await assert.rejects(
    applyUsers(end, context),
    /^AgentError: user0's processes 100 are still running after SIGKILL; the account stays locked$/,
  );
  assert.equal(host.commands().filter((command) => command.startsWith('kill')).length, 5);
});

test('expiry: in shadow (usermod -e) while valid; once past, keys removed, sudo dropped, sessions ended', async () => {
  const host = await withSshdDropIn(machine({ markerMembers: 'alice', group: '' }));
  host.putFile(
    '/etc/group',
    (host.text('/etc/group') ?? '').replace('ecs-host-agent-sudo:x:998:', 'ecs-host-agent-sudo:x:998:alice'),
  );
  host.putFile('/etc/sudoers.d/ecs-host-agent', SUDOERS_TEXT);
  const day = Date.parse('2026-12-01T00:00:00Z') / 86_400_000;
  const valid = await planWith(host, {
    alice: { sshPublicKeys: [KEY], sudo: true, expires: '2026-11-30T18:00:00-06:00' },
  });
  assert.deepEqual(valid.actions.map(shown), [[`usermod -e ${day} -- alice`]]);
  assert.equal(valid.actions[0]?.summary, 'update user alice: expires 2026-11-30T18:00:00-06:00');

  host.putFile(
    '/etc/shadow',
    (host.text('/etc/shadow') ?? '').replace('alice:*:20000:0:99999:7:::', `alice:*:20000:0:99999:7::${day}:`),
  );
  host.putFile('/proc/300/status', 'Name:\tbash\nState:\tS (sleeping)\nUid:\t1000\t1000\t1000\t1000\nNSpid:\t300\n');
  host.clock = new Date('2026-12-01T00:00:01Z');
  const expired = await planWith(host, {
    alice: { sshPublicKeys: [KEY], sudo: true, expires: '2026-11-30T18:00:00-06:00' },
  });
  assert.deepEqual(kinds(expired.actions), ['remove-keys alice', 'end-sessions alice', 'set-members']);
  assert.deepEqual(shown(expired.actions[2]), ["gpasswd -M '' -- ecs-host-agent-sudo"]);
});

test('a locked user back in the source: expiry cleared, password "*" again (chpasswd -e), keys back', async () => {
  const host = await withSshdDropIn(machine({ aliceShadow: '!*:20000:0:99999:7::1:' }));
  await host.rm('/home/alice/.ssh/authorized_keys');
  const { actions } = await planWith(host, aliceOnly);
  assert.deepEqual(
    actions.map((action) => action.summary),
    [
      'update user alice: unlock (back in the source)',
      'remove the password of alice (managed accounts log in with keys only)',
      "write alice's authorized_keys (1 key)",
    ],
  );
  assert.deepEqual(actions.slice(0, 2).map(shown), [["usermod -e '' -- alice"], ['chpasswd -e <<< "alice:*\\n"']]);
});

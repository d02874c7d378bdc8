import assert from 'node:assert/strict';
import { test } from 'node:test';

import { applyUsers } from '../../../src/concerns/users/apply.ts';
import { createUsersConcern } from '../../../src/concerns/users/index.ts';
import { usersSyncJob } from '../../../src/jobs/users-sync.ts';
import type { UsersAction } from '../../../src/concerns/users/plan.ts';
import { contextFor } from '../../support/ecs-config.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { ed25519Key } from './keys.ts';
import { KEY, KEYS_TEXT, kinds, machine, planWith, shown, withSshdDropIn } from './machine.ts';

/** The users concern on a FakeHost: gather, plan, and the file steps of apply. */

test('USERS_SOURCE empty disables the concern and the daemon job', async () => {
  const concern = createUsersConcern();
  assert.equal(concern.enabled(await contextFor(new FakeHost(), '')), false);
  assert.equal(usersSyncJob.intervalMs(await contextFor(new FakeHost(), '')), null);
  const configured = await contextFor(new FakeHost(), 'USERS_SOURCE=file:/users.json\nUSERS_SYNC_INTERVAL=10m\n');
  assert.equal(concern.enabled(configured), true);
  assert.equal(usersSyncJob.intervalMs(configured), 600_000);
});

test('control source: the injected document is validated like the file source', async () => {
  const host = await withSshdDropIn(machine());
  const { actions, warnings } = await planWith(host, {
    alice: { sshPublicKeys: [KEY] },
    bob: { sshPublicKeys: [KEY], sudo: true },
    '-x': {},
  });
  assert.deepEqual(kinds(actions), [
    'write-sudoers',
    'record-state',
    'create-accounts',
    'set-members',
    'set-members',
    'set-up-home bob',
    'flush-homes',
    'record-state',
  ]);
  assert.deepEqual(warnings, [
    '"-x": user name starts with "-" (a tool would read it as an option); ' +
      'allowed: a name matching ^[a-z_][a-z0-9_-]{0,31}$',
  ]);
  await assert.rejects(planWith(host, ['alice']), /control is not a JSON object mapping user names to their documents/);
  const failing = createUsersConcern({ fetchUsersDocument: async () => Promise.reject(new Error('HTTP 503')) });
  await assert.rejects(
    failing.gather(await contextFor(host, 'USERS_SOURCE=control\n')),
    /control: the users document could not be fetched: HTTP 503/,
  );
  await assert.rejects(
    createUsersConcern().gather(await contextFor(host, 'USERS_SOURCE=control\n')),
    /USERS_SOURCE=control needs CONTROL_URL/,
  );
});

test('a new user: a uid above every used and retired one, its group the same number unless taken', async () => {
  const host = await withSshdDropIn(
    machine({ state: { managedUsers: ['alice'], retiredUids: [1007] }, group: 'ops:x:1008:\n' }),
  );
  const { actions } = await planWith(host, {
    alice: { sshPublicKeys: [KEY] },
    bob: { sshPublicKeys: [KEY], sudo: true },
  });
  const create = actions.find((action) => action.kind === 'create-accounts');
  assert.deepEqual(shown(create), [
    'newusers <<< "bob::1008:1009:managed by ecs-host-agent:/home/bob:/bin/bash\\n"',
    'each account read back from the databases (newusers exits 1 after writing them: PAM sets no password)',
    'chpasswd -e <<< "bob:*\\n"',
  ]);
  assert.deepEqual(actions.filter((action) => action.kind === 'set-members').map(shown), [
    ['gpasswd -M bob -- ecs-host-agent-sudo'],
    ['gpasswd -M alice,bob -- ecs-host-agent-users'],
  ]);
  const record = actions.find((action) => action.kind === 'record-state');
  assert.deepEqual(record?.kind === 'record-state' && record.change, { creating: ['bob'], forget: [] });
});

test('a managed user that matches the source plans nothing; no tool runs', async () => {
  const host = await withSshdDropIn(machine());
  const { actions, warnings } = await planWith(host, { alice: { sshPublicKeys: [KEY] } });
  assert.deepEqual([actions, warnings, host.execCalls], [[], [], []]);
});

test('keys with the wrong owner or mode are rewritten (no-follow), then nothing is planned', async () => {
  const host = await withSshdDropIn(machine());
  host.putFile('/home/alice/.ssh/authorized_keys', KEYS_TEXT, 0o644, 0, 0);
  const first = await planWith(host, { alice: { sshPublicKeys: [KEY] } });
  assert.deepEqual(
    first.actions.map((a) => a.summary),
    ["write alice's authorized_keys (1 key: owner or mode only)"],
  );
  await applyUsers(first.actions[0] as UsersAction, first.context);
  assert.deepEqual(host.files.get('/home/alice/.ssh/authorized_keys')?.mode, 0o600);
  assert.deepEqual((await planWith(host, { alice: { sshPublicKeys: [KEY] } })).actions, []);
});

test('only accounts in the state file and the marker group, with uid >= UID_MIN, are managed', async () => {
  const notMarked = await planWith(await withSshdDropIn(machine({ markerMembers: '' })), {
    alice: { sshPublicKeys: [KEY] },
  });
  assert.deepEqual(notMarked.warnings, [
    '"alice": the account alice already exists and was not created by ecs-host-agent; skipped',
  ]);
  assert.deepEqual(notMarked.actions, []);
  const gone = await planWith(await withSshdDropIn(machine({ passwd: 'bob:x:1001:1001::/home/bob:/bin/bash\n' })), {
    bob: { sshPublicKeys: [] },
  });
  assert.deepEqual(
    gone.actions.map((a) => a.summary),
    ['lock user alice (gone from the source)'],
  );
  assert.deepEqual(shown(gone.actions[0]), [
    'usermod -L -e 1 -- alice',
    'remove in /home/alice, no link followed: .ssh/authorized_keys',
  ]);
});

test('an account whose uid was changed to 0 or below UID_MIN is reported on every sync and never touched', async () => {
  for (const uid of [0, 999]) {
    const host = await withSshdDropIn(machine({ aliceUid: uid, passwd: 'bob:x:1001:1001::/home/bob:/bin/bash\n' }));
    const { actions, warnings } = await planWith(host, { bob: { sshPublicKeys: [] } });
    assert.deepEqual(actions, [], 'never locked');
    assert.deepEqual(warnings, [
      `"alice": uid ${uid} is below UID_MIN 1000 (changed since the agent created it?): ` +
        'no longer managed, not synced, locked or deleted; fix the uid or remove the account',
      '"bob": the account bob already exists and was not created by ecs-host-agent; skipped',
    ]);
    const listed = await planWith(host, { alice: { sshPublicKeys: [KEY], sudo: true } });
    assert.deepEqual([listed.actions, listed.warnings.length], [[], 1], 'nor synced while listed');
  }
});

test('a symlinked ~/.ssh or home is reported and nothing is written through it', async () => {
  for (const link of ['/home/alice/.ssh', '/home/alice']) {
    const host = await withSshdDropIn(machine());
    await host.rm(link, { recursive: true });
    host.symlinks.set(link, '/etc');
    const { actions, warnings } = await planWith(host, { alice: { sshPublicKeys: [ed25519Key()] } });
    assert.deepEqual(actions, []);
    const what = link === '/home/alice' ? 'the home directory /home/alice' : '/home/alice/.ssh';
    assert.deepEqual(warnings, [
      `"alice": ${what} is a symbolic link; refusing to follow it; its keys were left as they are`,
    ]);
  }
});

test('a symlinked authorized_keys of a removed user is removed with the lock, not reported as left', async () => {
  const host = await withSshdDropIn(machine({ passwd: 'bob:x:1001:1001::/home/bob:/bin/bash\n' }));
  await host.rm('/home/alice/.ssh/authorized_keys');
  host.symlinks.set('/home/alice/.ssh/authorized_keys', '/etc/shadow');
  const { actions, warnings, context } = await planWith(host, { bob: { sshPublicKeys: [] } });
  assert.deepEqual(warnings, ['"bob": the account bob already exists and was not created by ecs-host-agent; skipped']);
  const lock = actions[0] as UsersAction;
  assert.deepEqual(shown(lock), [
    'usermod -L -e 1 -- alice',
    'remove in /home/alice, no link followed: .ssh/authorized_keys',
  ]);
  host.answer('usermod', {});
  await applyUsers(lock, context);
  assert.equal(host.symlinks.has('/home/alice/.ssh/authorized_keys'), false);
  assert.match(host.text('/etc/shadow') ?? '', /^alice:\*:/m, 'the target is never touched');
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createUsersConcern } from '../../../src/concerns/users/index.ts';
import { usersSyncJob } from '../../../src/concerns/users/job.ts';
import { applyUsers } from '../../../src/concerns/users/apply.ts';
import type { UsersAction } from '../../../src/concerns/users/plan.ts';
import type { FetchUsersDocument } from '../../../src/concerns/users/source.ts';
import { contextFor } from '../../support/ecs-config.ts';
import { FakeHost } from '../../support/fake-host.ts';
import { ed25519Key } from './keys.ts';

/**
 * The users concern on a FakeHost: a Debian-like account database with alice
 * (uid 1000) already managed by the agent; no account tool may run (FakeHost
 * fails any command it is not told about), so these tests cover gather, plan
 * and the file steps.
 */
const KEY = ed25519Key('alice@laptop');
const KEYS_TEXT = `# Managed by ecs-host-agent from USERS_SOURCE: changes here are overwritten at the next sync.\n${KEY}\n`;

function machine(options: { markerMembers?: string; aliceUid?: number } = {}): FakeHost {
  const host = new FakeHost({
    '/etc/passwd': `root:x:0:0:root:/root:/bin/bash\nnews:x:9:9:news:/var/spool/news:/usr/sbin/nologin\nalice:x:${options.aliceUid ?? 1000}:1000:managed by ecs-host-agent:/home/alice:/bin/bash\n`,
    '/etc/group': `root:x:0:\nusers:x:100:\nalice:x:1000:\necs-host-agent-users:x:999:${options.markerMembers ?? 'alice'}\necs-host-agent-sudo:x:998:\n`,
    '/etc/shadow': 'root:*:20000:0:99999:7:::\nalice:*:20000:0:99999:7:::\n',
    '/etc/login.defs': 'UID_MIN 1000\n',
    '/var/lib/ecs-host-agent/users.json': '{"managedUsers": ["alice"]}\n',
  });
  host.putFile('/home/alice/.ssh/authorized_keys', KEYS_TEXT, 0o600, 1000, 1000);
  host.directoryOwners.set('/home/alice/.ssh', { mode: 0o700, uid: 1000, gid: 1000 });
  return host;
}

async function planWith(host: FakeHost, document: unknown, env = '') {
  const fetchUsersDocument: FetchUsersDocument = async () => document;
  const concern = createUsersConcern({ fetchUsersDocument });
  const context = await contextFor(host, `USERS_SOURCE=control\n${env}`);
  const facts = await concern.gather(context);
  return { concern, context, facts, actions: concern.plan(facts, context), warnings: concern.warnings?.(facts, context) ?? [] };
}

test('USERS_SOURCE empty disables the concern and the daemon job', async () => {
  const concern = createUsersConcern();
  assert.equal(concern.enabled(await contextFor(new FakeHost(), '')), false);
  assert.equal(usersSyncJob.intervalMs(await contextFor(new FakeHost(), '')), null);
  const configured = await contextFor(new FakeHost(), 'USERS_SOURCE=file:/users.json\nUSERS_SYNC_INTERVAL=10m\n');
  assert.equal(concern.enabled(configured), true);
  assert.equal(usersSyncJob.intervalMs(configured), 600_000);
});

test('control source: the injected document is validated like the file source', async () => {
  const { actions, warnings } = await planWith(machine(), { alice: { sshPublicKeys: [KEY] }, bob: { sshPublicKeys: [KEY], sudo: true }, '-x': {} });
  assert.deepEqual(actions.map((a) => `${a.kind} ${a.user ?? ''}`.trim()), ['write-sudoers', 'record-state', 'create-user bob']);
  assert.deepEqual(warnings, ['"-x": user name starts with "-" (a tool would read it as an option); allowed: a name matching ^[a-z_][a-z0-9_-]{0,31}$']);
  const host = machine();
  await assert.rejects(planWith(host, ['alice']), /control is not a JSON object mapping user names to their documents/);
  const failing = createUsersConcern({ fetchUsersDocument: async () => Promise.reject(new Error('HTTP 503')) });
  await assert.rejects(failing.gather(await contextFor(host, 'USERS_SOURCE=control\n')), /control: the users document could not be fetched: HTTP 503/);
  await assert.rejects(createUsersConcern().gather(await contextFor(host, 'USERS_SOURCE=control\n')), /control: the users document could not be fetched: USERS_SOURCE=control needs CONTROL_URL/);
});

test('a managed user that matches the source plans nothing; no tool runs', async () => {
  const host = machine();
  const { actions, warnings } = await planWith(host, { alice: { sshPublicKeys: [KEY] } });
  assert.deepEqual([actions, warnings, host.execCalls], [[], [], []]);
});

test('keys past "expires" are removed; before it they stay', async () => {
  const host = machine();
  const expired = await planWith(host, { alice: { sshPublicKeys: [KEY], expires: '2026-11-22T11:59:59Z' } });
  assert.deepEqual(expired.actions.map((a) => a.summary), ["remove alice's authorized_keys (expired at 2026-11-22T11:59:59Z)"]);
  await applyUsers(expired.actions[0] as UsersAction, expired.context);
  assert.equal(host.files.has('/home/alice/.ssh/authorized_keys'), false);
  const valid = await planWith(machine(), { alice: { sshPublicKeys: [KEY], expires: '2026-11-22T13:00:00+01:00' } });
  assert.ok(valid.facts.desired[0]?.expired, 'the offset counts: 13:00+01:00 is 12:00Z, which is now');
  const future = await planWith(machine(), { alice: { sshPublicKeys: [KEY], expires: '2027-01-01T00:00:00Z' } });
  assert.deepEqual(future.actions, []);
});

test('keys with the wrong owner or mode are rewritten through the no-follow primitive, then nothing is planned', async () => {
  const host = machine();
  host.putFile('/home/alice/.ssh/authorized_keys', KEYS_TEXT, 0o644, 0, 0);
  const first = await planWith(host, { alice: { sshPublicKeys: [KEY] } });
  assert.deepEqual(first.actions.map((a) => a.summary), ["write alice's authorized_keys (1 key: owner or mode only)"]);
  await applyUsers(first.actions[0] as UsersAction, first.context);
  assert.deepEqual(host.files.get('/home/alice/.ssh/authorized_keys')?.mode, 0o600);
  assert.deepEqual((await planWith(host, { alice: { sshPublicKeys: [KEY] } })).actions, []);
});

test('only accounts in the state file and the marker group, with uid >= UID_MIN, are managed', async () => {
  const notMarked = await planWith(machine({ markerMembers: '' }), { alice: { sshPublicKeys: [KEY] } });
  assert.deepEqual(notMarked.warnings, ['"alice": the account alice already exists and was not created by ecs-host-agent; skipped']);
  assert.deepEqual(notMarked.actions, []);
  const system = await planWith(machine({ aliceUid: 999 }), {});
  assert.deepEqual(system.actions, [], 'a system account listed in the state is never locked');
  const gone = await planWith(machine(), {});
  assert.deepEqual(gone.actions.map((a) => a.summary), ['lock user alice (gone from the source)']);
  assert.deepEqual(gone.actions[0]?.details, ['usermod -L -e 1 -G ecs-host-agent-users -- alice', 'remove /home/alice/.ssh/authorized_keys']);
  const deleted = await planWith(machine(), {}, 'USERS_REMOVE=delete\n');
  assert.deepEqual(deleted.actions[0]?.details, ['userdel --remove -- alice']);
});

test('a symlinked ~/.ssh is reported and nothing is written through it', async () => {
  const host = machine();
  await host.rm('/home/alice/.ssh', { recursive: true });
  host.symlinks.set('/home/alice/.ssh', '/etc');
  const { actions, warnings } = await planWith(host, { alice: { sshPublicKeys: [ed25519Key()] } });
  assert.deepEqual(actions, []);
  assert.deepEqual(warnings, ['"alice": /home/alice/.ssh is a symbolic link; refusing to follow it; its keys were left as they are']);
});

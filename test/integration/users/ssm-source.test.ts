import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { syncUsers } from '../../../src/concerns/users/sync.ts';
import { MOTO_REGION, motoSsm as motoPort, startMoto } from '../../support/moto.ts';
import { startSsmProxy } from './ssm-proxy.ts';
import { accountsRoot, newKeyPair, snapshot, usersContext } from './users-root.ts';

/** USERS_SOURCE=ssm: against moto_server, every SSM call counted by a proxy in front of it. */

async function motoSsm(t: TestContext) {
  const moto = await startMoto();
  t.after(() => moto.stop());
  const proxy = await startSsmProxy(moto.endpoint);
  t.after(() => proxy.close());
  const ssm = motoPort(moto);
  const put = (name: string, value: string, type: 'String' | 'SecureString' = 'String') =>
    ssm.putParameter({ Name: name, Value: value, Type: type, Overwrite: true });
  return { proxy, put };
}

/** The generation, then 10 users a page: 100 pages, and one more when the last page still carries a NextToken. */
function assertFullRead(calls: ReadonlyMap<string, number>): void {
  assert.equal(calls.get('GetParameter'), 1);
  const pages = calls.get('GetParametersByPath') ?? 0;
  assert.ok(pages === 100 || pages === 101, `${pages} GetParametersByPath calls`);
  assert.equal(calls.size, 2);
}

function env(endpoint: string): Record<string, string> {
  return { USERS_SOURCE: 'ssm:/ecs/users', AWS_REGION: MOTO_REGION, AWS_ENDPOINT_URL_SSM: endpoint };
}

async function putUsers(
  put: (name: string, value: string) => Promise<unknown>,
  names: readonly string[],
  key: string,
): Promise<void> {
  for (let start = 0; start < names.length; start += 20) {
    await Promise.all(
      names.slice(start, start + 20).map((name) => put(`/ecs/users/${name}`, JSON.stringify({ sshPublicKeys: [key] }))),
    );
  }
}

test('ssm: 1,000 users behind a generation parameter: a sync where nothing changed makes one API call', async (t) => {
  const { proxy, put } = await motoSsm(t);
  const root = accountsRoot(t);
  const key = newKeyPair(root, 'team').publicLine;
  const names = Array.from({ length: 1000 }, (_, i) => `user${String(i).padStart(4, '0')}`);
  await put('/ecs/users', 'initial');
  await putUsers(put, names, key);
  const context = await usersContext(root, env(proxy.endpoint));

  const first = await syncUsers(context, { dryRun: false });
  assert.deepEqual(first.problems, []);
  assert.ok(
    first.steps.every((step) => step.done),
    JSON.stringify(first.steps.filter((step) => !step.done).slice(0, 3)),
  );
  assert.equal(first.listed, 1000);
  assertFullRead(proxy.calls);
  assert.equal(statSync(`${root}/var/lib/ecs-host-agent/users-source.json`).mode & 0o777, 0o600);

  proxy.reset();
  const noop = await syncUsers(context, { dryRun: false });
  assert.deepEqual([noop.steps, noop.problems, noop.listed], [[], [], 1000]);
  assert.ok(proxy.total() <= 2, `a no-op sync made ${proxy.total()} calls`);
  assert.deepEqual(Object.fromEntries(proxy.calls), { GetParameter: 1 });
  assert.match(noop.sourceNote ?? '', /^generation 1 unchanged since .*: users from the last full read$/);

  // A user changed without a new generation is not seen (the operator's side of the bargain) …
  const other = newKeyPair(root, 'other').publicLine;
  await put('/ecs/users/user0001', JSON.stringify({ sshPublicKeys: [other] }));
  assert.deepEqual((await syncUsers(context, { dryRun: false })).steps, []);
  // … and is as soon as the generation moves.
  await put('/ecs/users', 'initial');
  proxy.reset();
  const changed = await syncUsers(context, { dryRun: false });
  assert.deepEqual(
    changed.steps.map((step) => step.summary),
    [
      "write user0001's authorized_keys (1 key)",
      'keep ssm:/ecs/users (generation 2) in /var/lib/ecs-host-agent/users-source.json',
    ],
  );
  assertFullRead(proxy.calls);
  assert.ok(readFileSync(`${root}/home/user0001/.ssh/authorized_keys`, 'utf8').includes(other));
});

test('ssm: no generation parameter: read in full, SecureString decrypted, bad ones rejected alone', async (t) => {
  const { proxy, put } = await motoSsm(t);
  const root = accountsRoot(t);
  const key = newKeyPair(root, 'team').publicLine;
  const names = Array.from({ length: 12 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  for (const name of names)
    await put(`/ecs/users/${name}`, JSON.stringify({ sshPublicKeys: [key], sudo: name === 'user00' }));
  await put('/ecs/users/secret', JSON.stringify({ sshPublicKeys: [key] }), 'SecureString');
  await put('/ecs/users/broken', '{"sshPublicKeys": [');
  await put('/ecs/users/twice', `{"sshPublicKeys": [], "sudo": false, "sudo": true}`);
  await put('/ecs/users/team/nested', JSON.stringify({ sshPublicKeys: [key] }));
  await put('/other/zed', JSON.stringify({ sshPublicKeys: [key] }));

  const context = await usersContext(root, env(proxy.endpoint));
  const report = await syncUsers(context, { dryRun: false });
  assert.equal(report.source, 'ssm:/ecs/users');
  assert.equal(report.sourceNote, 'no generation parameter /ecs/users: read in full');
  assert.equal(report.listed, 16);
  assert.deepEqual(
    [...report.problems].sort((a, b) => String(a.user).localeCompare(String(b.user))),
    [
      { user: 'broken', error: 'parameter /ecs/users/broken is not JSON' },
      { user: 'team/nested', error: 'user name contains "/"; allowed: a name matching ^[a-z_][a-z0-9_-]{0,31}$' },
      { user: 'twice', error: 'parameter /ecs/users/twice: field "sudo" is given twice; allowed: each field once' },
    ],
  );
  const created = report.steps.filter((step) => step.kind === 'set-up-home').map((step) => step.user);
  assert.deepEqual(created, [...names, 'secret'].sort());
  assert.match(await context.host.readText('/etc/group'), /^ecs-host-agent-sudo:x:\d+:user00$/m);
  assert.ok(
    !(await context.host.readText('/etc/passwd')).includes('zed:'),
    'parameters outside the prefix are not users',
  );
  assert.deepEqual(Object.fromEntries(proxy.calls), { GetParameter: 1, GetParametersByPath: 2 });
});

test('ssm: throttling is retried with backoff; if it lasts, the sync fails, never reads as no users', async (t) => {
  const { proxy, put } = await motoSsm(t);
  const root = accountsRoot(t);
  const key = newKeyPair(root, 'team').publicLine;
  await putUsers(put, ['alice', 'bob', 'carol'], key);
  const context = await usersContext(root, env(proxy.endpoint));

  proxy.throttle('GetParametersByPath', 2);
  const retried = await syncUsers(context, { dryRun: false });
  assert.deepEqual([retried.problems, retried.listed], [[], 3]);
  assert.deepEqual(
    Object.fromEntries(proxy.calls),
    { GetParameter: 1, GetParametersByPath: 3 },
    'two throttled, then answered',
  );

  const before = snapshot(root);
  proxy.reset();
  proxy.throttle('GetParametersByPath', Infinity);
  await assert.rejects(
    syncUsers(context, { dryRun: false }),
    new RegExp(
      '^UsersSourceError: ssm:/ecs/users: GetParametersByPath was throttled \\(5 attempts\\): Rate exceeded; ' +
        'nothing was changed, the next sync reads it again$',
    ),
  );
  assert.equal(proxy.calls.get('GetParametersByPath'), 5);
  assert.deepEqual(snapshot(root), before, 'nobody locked: a source that cannot be read is not an empty one');
});

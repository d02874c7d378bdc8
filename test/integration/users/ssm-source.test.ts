import assert from 'node:assert/strict';
import { test } from 'node:test';

import { PutParameterCommand } from '@aws-sdk/client-ssm';

import { createSsmClient } from '../../../src/aws/clients.ts';
import { syncUsers } from '../../../src/concerns/users/sync.ts';
import { MOTO_REGION, startMoto } from '../../support/moto.ts';
import { accountsRoot, newKeyPair, usersContext } from './users-root.ts';

test('ssm: source from moto_server: one parameter per user, paginated past 10, SecureString read, bad ones rejected alone', async (t) => {
  const moto = await startMoto();
  t.after(() => moto.stop());
  const root = accountsRoot(t);
  const key = newKeyPair(root, 'team').publicLine;
  const ssm = createSsmClient({ region: MOTO_REGION, ecsEndpoint: null, ssmEndpoint: moto.endpoint });
  const put = (name: string, value: string, type: 'String' | 'SecureString' = 'String') =>
    ssm.send(new PutParameterCommand({ Name: `/ecs/users/${name}`, Value: value, Type: type }));
  const names = Array.from({ length: 12 }, (_, i) => `user${String(i).padStart(2, '0')}`);
  for (const name of names) await put(name, JSON.stringify({ sshPublicKeys: [key], sudo: name === 'user00' }));
  await put('secret', JSON.stringify({ sshPublicKeys: [key] }), 'SecureString');
  await put('broken', '{"sshPublicKeys": [');
  await put('team/nested', JSON.stringify({ sshPublicKeys: [key] }));
  await ssm.send(new PutParameterCommand({ Name: '/other/zed', Value: JSON.stringify({ sshPublicKeys: [key] }), Type: 'String' }));

  const context = await usersContext(root, { USERS_SOURCE: 'ssm:/ecs/users', AWS_REGION: MOTO_REGION, AWS_ENDPOINT_URL_SSM: moto.endpoint });
  const report = await syncUsers(context, { dryRun: false });
  assert.equal(report.source, 'ssm:/ecs/users');
  assert.equal(report.listed, 15);
  assert.deepEqual(report.problems, [
    { user: 'broken', error: 'parameter /ecs/users/broken is not JSON' },
    { user: 'team/nested', error: 'user name contains "/"; allowed: a name matching ^[a-z_][a-z0-9_-]{0,31}$' },
  ]);
  const created = report.steps.filter((step) => step.kind === 'set-up-home').map((step) => step.user);
  assert.deepEqual(created, [...names, 'secret'].sort());
  assert.match(await context.host.readText('/etc/group'), /^ecs-host-agent-sudo:x:\d+:user00$/m);
  assert.ok(!(await context.host.readText('/etc/passwd')).includes('zed:'), 'parameters outside the prefix are not users');
});

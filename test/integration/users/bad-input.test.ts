import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { syncUsers } from '../../../src/concerns/users/sync.ts';
import { accountsRoot, newKeyPair, snapshot, usersContext, writeUsersFile } from './users-root.ts';

/**
 * Every rejection of the issue, each on a scratch root where alice is already
 * synced: the bad entry is rejected with its error, alice (still listed) stays
 * as she is, and passwd, shadow, group, gshadow and every home are byte-for-byte
 * unchanged.
 */
test('bad input: each entry rejected with a clear error, nothing on the system changes', async (t) => {
  const root = accountsRoot(t);
  const alice = newKeyPair(root, 'alice').publicLine;
  const other = newKeyPair(root, 'other').publicLine;
  const body = other.split(' ')[1] as string;
  const context = await usersContext(root, {
    USERS_SOURCE: 'file:/users.json',
    USERS_ALLOWED_GROUPS: 'users,nosuchgroup',
  });
  writeUsersFile(`${root}/users.json`, { alice: { sshPublicKeys: [alice] } });
  const first = await syncUsers(context, { dryRun: false });
  assert.deepEqual(first.problems, []);
  const keys = (...list: string[]) => ({ sshPublicKeys: list });

  const rows: [string, string, unknown, RegExp][] = [
    [
      'invalid name',
      'Mallory',
      keys(other),
      /user name has characters other than a-z, 0-9, "_" and "-", or starts with a digit; allowed: a name matching/,
    ],
    ['name starting with a digit', '1x', keys(other), /user name has characters other than/],
    ['reserved name', 'root', keys(other), /user name is reserved for a system account/],
    ['reserved systemd- name', 'systemd-x', keys(other), /user name is reserved for a system account/],
    [
      'name starting with -',
      '-oProxyCommand=x',
      keys(other),
      /user name starts with "-" \(a tool would read it as an option\)/,
    ],
    ['name starting with .', '.ssh', keys(other), /user name starts with "\."/],
    ['name with /', 'a/b', keys(other), /user name contains "\/"/],
    ['newline in a name', 'eve\nroot::0:0::/:/bin/sh', keys(other), /user name contains a newline or NUL/],
    ['NUL in a name', 'eve\0', keys(other), /user name contains a newline or NUL/],
    ['name over 32 characters', `a${'b'.repeat(32)}`, keys(other), /user name is longer than 32 characters/],
    [
      'key that does not parse',
      'mallory',
      keys('ssh-ed25519 AAAA!!!!'),
      /sshPublicKeys\[0\] does not parse: the key body is not base64/,
    ],
    [
      'key body of another type',
      'mallory',
      keys(`ssh-rsa ${body}`),
      /sshPublicKeys\[0\] does not parse: the key body is not a ssh-rsa key/,
    ],
    ['unknown key type', 'mallory', keys(`ssh-dss ${body}`), /sshPublicKeys\[0\] has unknown key type "ssh-dss"/],
    [
      'command= option',
      'mallory',
      keys(`command="/bin/sh" ${other}`),
      /sshPublicKeys\[0\] has key options \("command=\\"\/bin\/sh\\""\); options such as command=, from= or/,
    ],
    ['from= option', 'mallory', keys(`from="10.0.0.0/8" ${other}`), /sshPublicKeys\[0\] has key options \("from=/],
    [
      'environment= option',
      'mallory',
      keys(`environment="LD_PRELOAD=/tmp/x.so" ${other}`),
      /sshPublicKeys\[0\] has key options \("environment=/,
    ],
    ['restrict flag option', 'mallory', keys(`no-pty,permitopen="x:1" ${other}`), /sshPublicKeys\[0\] has key options/],
    [
      'newline injection in a key',
      'mallory',
      keys(`${other}\ncommand="/bin/sh" ${other}`),
      /sshPublicKeys\[0\] contains a newline, carriage return or NUL/,
    ],
    ['NUL in a key', 'mallory', keys(`${other}\0`), /sshPublicKeys\[0\] contains a newline, carriage return or NUL/],
    [
      'key over 16 KiB',
      'mallory',
      keys(`${other} ${'c'.repeat(16 * 1024)}`),
      /sshPublicKeys\[0\] is longer than 16384 bytes/,
    ],
    [
      'more than 100 keys',
      'mallory',
      keys(...Array.from({ length: 101 }, () => other)),
      /sshPublicKeys has 101 keys; allowed: at most 100/,
    ],
    [
      'keys not an array',
      'mallory',
      { sshPublicKeys: other },
      /sshPublicKeys is "ssh-ed25519 .*"; allowed: an array of public key strings/,
    ],
    [
      'allowed group that does not exist',
      'mallory',
      { ...keys(other), groups: ['nosuchgroup'] },
      /groups\[0\] "nosuchgroup" does not exist on this host/,
    ],
    [
      'docker group',
      'mallory',
      { ...keys(other), groups: ['docker'] },
      /^groups\[0\] "docker" is not in USERS_ALLOWED_GROUPS; allowed: nosuchgroup, users$/,
    ],
    [
      'sudo group by name',
      'mallory',
      { ...keys(other), groups: ['sudo'] },
      /^groups\[0\] "sudo" is not in USERS_ALLOWED_GROUPS; allowed: nosuchgroup, users; use "sudo": true for sudo$/,
    ],
    [
      'root-equivalent group',
      'mallory',
      { ...keys(other), groups: ['users', 'disk'] },
      /^groups\[1\] "disk" is not in USERS_ALLOWED_GROUPS; allowed: nosuchgroup, users$/,
    ],
    [
      "another user's personal group",
      'mallory',
      { ...keys(other), groups: ['alice'] },
      /^groups\[0\] "alice" is not in USERS_ALLOWED_GROUPS/,
    ],
    [
      'missing keys',
      'mallory',
      { sudo: true },
      /^sshPublicKeys is missing; allowed: an array of public key strings \(required\)$/,
    ],
    [
      'impossible date',
      'mallory',
      { ...keys(other), expires: '2026-02-30T00:00:00Z' },
      /^expires is "2026-02-30T00:00:00Z"; allowed: an RFC 3339 time such as 2026-12-31T23:59:59Z, with a real date$/,
    ],
    ['sudo not a boolean', 'mallory', { ...keys(other), sudo: 'yes' }, /sudo is "yes"; allowed: true or false/],
    [
      'expires not RFC 3339',
      'mallory',
      { ...keys(other), expires: 'tomorrow' },
      /expires is "tomorrow"; allowed: an RFC 3339 time/,
    ],
    [
      'unknown field',
      'mallory',
      { ...keys(other), shell: '/bin/sh' },
      /unknown field "shell"; allowed: sshPublicKeys, sudo, groups, expires/,
    ],
    ['not an object', 'mallory', [other], /is an array; allowed: an object with sshPublicKeys, sudo, groups, expires/],
    [
      'a bad entry for a managed user leaves it as it is',
      'alice',
      keys('ssh-ed25519 garbage'),
      /sshPublicKeys\[0\] does not parse/,
    ],
  ];

  for (const [label, name, entry, error] of rows) {
    const before = snapshot(root);
    writeUsersFile(`${root}/users.json`, { alice: { sshPublicKeys: [alice] }, [name]: entry });
    const report = await syncUsers(context, { dryRun: false });
    assert.equal(report.problems.length, 1, label);
    assert.equal(report.problems[0]?.user, name, label);
    assert.match(report.problems[0]?.error ?? '', error, label);
    assert.deepEqual(report.steps, [], label);
    assert.deepEqual(snapshot(root), before, `${label}: accounts and homes unchanged`);
  }

  // Keys given twice, which JSON.parse would read as the last one: the user is rejected, not guessed at.
  const before = snapshot(root);
  const twice = [
    `{"alice": {"sshPublicKeys": [${JSON.stringify(alice)}]}, "mallory": {"sshPublicKeys": [], "sudo": true}, `,
    `"mallory": {"sshPublicKeys": [${JSON.stringify(other)}], "sudo": true}, `,
    `"eve": {"sshPublicKeys": [${JSON.stringify(other)}], "sudo": false, "sudo": true}}`,
  ].join('');
  writeFileSync(`${root}/users.json`, twice);
  const report = await syncUsers(context, { dryRun: false });
  assert.deepEqual(report.problems, [
    { user: 'mallory', error: 'is listed twice in file:/users.json; allowed: each user once' },
    { user: 'eve', error: 'field "sudo" is given twice; allowed: each field once' },
  ]);
  assert.deepEqual([report.steps, snapshot(root)], [[], before]);
});

test('USERS_ALLOWED_GROUPS: a group on it is granted; taken off it, rejected and taken away', async (t) => {
  const root = accountsRoot(t);
  const source = `${root}/users.json`;
  const key = newKeyPair(root, 'dave').publicLine;
  writeUsersFile(source, { dave: { sshPublicKeys: [key], groups: ['users', 'video'] } });
  const granted = await syncUsers(
    await usersContext(root, { USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users,video' }),
    { dryRun: false },
  );
  assert.deepEqual(granted.problems, []);
  assert.match(readFileSync(`${root}/etc/group`, 'utf8'), /^video:x:\d+:dave$/m);
  const narrowed = await usersContext(root, { USERS_SOURCE: 'file:/users.json', USERS_ALLOWED_GROUPS: 'users' });
  const revoked = await syncUsers(narrowed, { dryRun: false });
  assert.deepEqual(revoked.problems, [
    { user: 'dave', error: 'groups[1] "video" is not in USERS_ALLOWED_GROUPS; allowed: users' },
  ]);
  assert.deepEqual(
    revoked.steps.map((step) => step.summary),
    ['set the members of video: remove dave'],
    'the rest of dave is left as it is',
  );
  assert.match(readFileSync(`${root}/etc/group`, 'utf8'), /^video:x:\d+:$/m);
  assert.match(readFileSync(`${root}/etc/gshadow`, 'utf8'), /^video:\*::$/m);
});

test('USERS_ALLOW_DOCKER_GROUP=yes grants the docker group when asked', async (t) => {
  const root = accountsRoot(t);
  const context = await usersContext(root, { USERS_SOURCE: 'file:/users.json', USERS_ALLOW_DOCKER_GROUP: 'yes' });
  await context.host.exec('groupadd', ['--system', '--', 'docker']);
  writeUsersFile(`${root}/users.json`, {
    carol: { sshPublicKeys: [newKeyPair(root, 'carol').publicLine], groups: ['docker'] },
  });
  const report = await syncUsers(context, { dryRun: false });
  assert.deepEqual(report.problems, []);
  assert.match(await context.host.readText('/etc/group'), /^docker:x:\d+:carol$/m);
});

test('a source that cannot be read fails the sync as a whole and changes nothing', async (t) => {
  const root = accountsRoot(t);
  const context = await usersContext(root, { USERS_SOURCE: 'file:/users.json' });
  const before = snapshot(root);
  await assert.rejects(syncUsers(context, { dryRun: false }), /file:\/users\.json cannot be read: ENOENT/);
  writeUsersFile(`${root}/users.json`, ['alice']);
  await assert.rejects(
    syncUsers(context, { dryRun: false }),
    /file:\/users\.json is not a JSON object mapping user names to their documents/,
  );
  assert.deepEqual(snapshot(root), before);
});

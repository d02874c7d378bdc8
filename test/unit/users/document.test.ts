import assert from 'node:assert/strict';
import { test } from 'node:test';

import { shadowDay, validateEntries } from '../../../src/concerns/users/document.ts';
import { parseJsonNamingDuplicates } from '../../../src/concerns/users/json.ts';
import { entriesOfText } from '../../../src/concerns/users/source.ts';
import { configFrom } from '../../support/ecs-config.ts';
import { KEY } from './machine.ts';

const NOW = new Date('2026-11-22T12:00:00Z');
const rules = (allowed: string[] = []) => ({
  existingGroups: new Set(['users', 'video', 'lxd', 'docker', 'sudo']),
  allowedGroups: new Set(allowed),
  now: NOW,
});

function problemOf(document: unknown, allowed: string[] = []): string | undefined {
  const { users, rejections } = validateEntries([{ name: 'alice', document }], rules(allowed));
  assert.equal(users.length + rejections.length, 1);
  return rejections[0]?.error;
}

test('a missing field is named as missing, not "undefined undefined"', () => {
  assert.equal(problemOf({}), 'sshPublicKeys is missing; allowed: an array of public key strings (required)');
  assert.equal(
    problemOf({ sshPublicKeys: null }),
    'sshPublicKeys is null; allowed: an array of public key strings (required)',
  );
});

test('dates: a real calendar date and time only; 2026-02-30 and 24:00 are rejected', () => {
  for (const bad of [
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2026-04-31T12:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-12-31T24:00:00Z',
    '2026-12-31T23:60:00Z',
    '2026-12-31T23:59:60Z',
    '2026-12-31T23:59:59+24:00',
    '2026-12-31',
    'tomorrow',
    1767225599,
  ]) {
    assert.match(
      problemOf({ sshPublicKeys: [KEY], expires: bad }) ?? '',
      /^expires is .*; allowed: an RFC 3339 time such as 2026-12-31T23:59:59Z, with a real date$/,
      String(bad),
    );
  }
  for (const good of ['2028-02-29T00:00:00Z', '2026-12-31T23:59:59.999+01:00', '2026-12-31t23:59:59z']) {
    assert.equal(problemOf({ sshPublicKeys: [KEY], expires: good }), undefined, good);
  }
});

test('expiry: shadow gets the first midnight at or after the time; once past, no keys, no sudo, no groups', () => {
  assert.equal(shadowDay(Date.parse('1970-01-02T00:00:00Z')), 1);
  assert.equal(shadowDay(Date.parse('2026-12-31T23:59:59Z')), Date.parse('2027-01-01T00:00:00Z') / 86_400_000);
  assert.equal(shadowDay(Date.parse('2026-12-31T00:00:00Z')), Date.parse('2026-12-31T00:00:00Z') / 86_400_000);
  assert.equal(
    shadowDay(Date.parse('1969-06-01T00:00:00Z')),
    1,
    'never 0 or below: those mean "no expiry" to some tools',
  );
  const { users } = validateEntries(
    [
      {
        name: 'gone',
        document: { sshPublicKeys: [KEY], sudo: true, groups: ['users'], expires: '2026-11-22T11:59:59Z' },
      },
      {
        name: 'kept',
        document: { sshPublicKeys: [KEY], sudo: true, groups: ['users'], expires: '2026-11-22T13:00:00+00:59' },
      },
    ],
    rules(['users']),
  );
  assert.deepEqual(
    users.map((user) => [user.name, user.expired, user.keys.length, user.sudo, user.groups]),
    [
      ['gone', true, 0, false, []],
      ['kept', false, 1, true, ['users']],
    ],
  );
});

test('groups: only those on USERS_ALLOWED_GROUPS, which must exist; the message lists what is allowed', () => {
  assert.equal(
    problemOf({ sshPublicKeys: [KEY], groups: ['lxd'] }),
    'groups[0] "lxd" is not in USERS_ALLOWED_GROUPS; allowed: none (USERS_ALLOWED_GROUPS is empty)',
  );
  assert.equal(
    problemOf({ sshPublicKeys: [KEY], groups: ['users', 'lxd'] }, ['users', 'video']),
    'groups[1] "lxd" is not in USERS_ALLOWED_GROUPS; allowed: users, video',
  );
  assert.equal(
    problemOf({ sshPublicKeys: [KEY], groups: ['sudo'] }, ['users']),
    'groups[0] "sudo" is not in USERS_ALLOWED_GROUPS; allowed: users; use "sudo": true for sudo',
  );
  assert.equal(
    problemOf({ sshPublicKeys: [KEY], groups: ['games'] }, ['games']),
    'groups[0] "games" does not exist on this host; allowed: existing groups',
  );
  assert.equal(problemOf({ sshPublicKeys: [KEY], groups: ['video', 'users', 'video'] }, ['users', 'video']), undefined);
});

test('JSON: every key given twice is found, at any depth, escapes decoded; values that look like keys are not', () => {
  assert.deepEqual(parseJsonNamingDuplicates('{"a": 1, "b": {"c": 1, "c": 2}, "\\u0061": 3}').duplicates, [
    ['b', 'c'],
    ['a'],
  ]);
  assert.deepEqual(
    parseJsonNamingDuplicates('{"a": ["a", "a", {"x": 1}, {"x": 2}], "b": "a", "c": "\\"a\\""}').duplicates,
    [],
  );
  // A value ending in an escaped backslash ends at its quote; an escaped quote does not end a key.
  assert.deepEqual(parseJsonNamingDuplicates('{"a": "x\\\\", "a": 1, "q\\"": 1, "q\\"": 2}').duplicates, [
    ['a'],
    ['q"'],
  ]);
  assert.deepEqual(parseJsonNamingDuplicates('[{"k": 1, "k": true}, {"k": null}]').duplicates, [['0', 'k']]);
  assert.throws(() => parseJsonNamingDuplicates('{"a": 1,}'), SyntaxError);
});

test('file source: a user listed twice or a field given twice rejects that user only', () => {
  const text = [
    '{"alice": {"sshPublicKeys": []}, "bob": {"sshPublicKeys": [], "sudo": true, "sudo": false},',
    `"alice": {"sshPublicKeys": ["${KEY}"]}, "carol": {"sshPublicKeys": []}}`,
  ].join(' ');
  assert.deepEqual(entriesOfText(text, 'file:/users.json'), [
    { name: 'alice', error: 'is listed twice in file:/users.json; allowed: each user once' },
    { name: 'bob', error: 'field "sudo" is given twice; allowed: each field once' },
    { name: 'carol', document: { sshPublicKeys: [] } },
  ]);
});

test('config: USERS_ALLOWED_GROUPS, USERS_MAX_REMOVALS and USERS_SHELL are checked when loaded', () => {
  assert.deepEqual(configFrom('USERS_ALLOWED_GROUPS=video,users,video\n').USERS_ALLOWED_GROUPS, ['users', 'video']);
  assert.deepEqual(configFrom('').USERS_ALLOWED_GROUPS, []);
  assert.deepEqual(configFrom('').USERS_MAX_REMOVALS, { kind: 'percent', percent: 10 });
  assert.deepEqual(configFrom('USERS_MAX_REMOVALS=25\n').USERS_MAX_REMOVALS, { kind: 'count', count: 25 });
  const rejects = (line: string, message: RegExp) =>
    assert.throws(
      () => configFrom(`${line}\n`),
      (error: Error & { exitCode?: number }) => error.exitCode === 78 && message.test(error.message),
    );
  rejects('USERS_ALLOWED_GROUPS=users video', /lists "users video", which is not a group name/);
  rejects(
    'USERS_ALLOWED_GROUPS=users,wheel',
    /lists wheel, which grants root through sudoers; grant sudo with "sudo": true/,
  );
  rejects(
    'USERS_ALLOWED_GROUPS=ecs-host-agent-users',
    /lists ecs-host-agent-users, which is the agent's own marker group/,
  );
  rejects('USERS_MAX_REMOVALS=150%', /is not a count or a percentage/);
  rejects('USERS_MAX_REMOVALS=-1', /is not a count or a percentage/);
  rejects('USERS_SHELL=/bin/sh:x', /is not a login shell path/);
});

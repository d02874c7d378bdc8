import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assignedKey, readersDisagree, rewriteEcsConfig } from '../../../src/concerns/ecs-config/file.ts';
import { contextFor, dpkgWithSystemd, warningsFor } from '../../support/ecs-config.ts';
import { parseEcsInitEnvFile, parseSystemdEnvironmentFile } from '../../../src/concerns/ecs-config/readers.ts';
import { FakeHost } from '../../support/fake-host.ts';

const MANAGED = new Map([
  ['ECS_CLUSTER', 'prod'],
  ['ECS_LOGLEVEL', 'warn'],
]);

function rewrite(existing: string, released: readonly string[] = []): string {
  return rewriteEcsConfig({ existing, managed: MANAGED, released: new Set(released) });
}

test('an empty or missing file gets the managed keys in order', () => {
  assert.equal(rewrite(''), 'ECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
});

test('a last line without newline is ended; blank lines and comments stay where they were', () => {
  assert.equal(rewrite('# top\n\nECS_CUSTOM=1'), '# top\n\nECS_CUSTOM=1\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
});

test('every form some reader takes as a managed key is replaced, at its first line', () => {
  const existing = [
    'A=1',
    '  export ECS_LOGLEVEL="debug"',
    'B=2',
    'ECS_CLUSTER = x',
    "ECS_LOGLEVEL='info'",
    '\tECS_CLUSTER=y',
    '',
  ].join('\n');
  assert.equal(rewrite(existing), 'A=1\nECS_LOGLEVEL=warn\nB=2\nECS_CLUSTER=prod\n');
});

test("keys released from management go in every form; the operator's own keys do not", () => {
  const existing = 'ECS_OLD=1\nECS_KEEP=1\nexport ECS_OLD=2\nECS_OLD = 3\n';
  assert.equal(rewrite(existing, ['ECS_OLD']), 'ECS_KEEP=1\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
});

test('a hand-written key set twice keeps only its last strict line, the one both readers use', () => {
  const existing = 'ECS_HAND=1\n# note\nECS_HAND=2\n  ECS_HAND = 3\n';
  const text = rewrite(existing);
  assert.equal(text, '# note\nECS_HAND=2\n  ECS_HAND = 3\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n');
  assert.equal(parseSystemdEnvironmentFile(text).ECS_HAND, parseSystemdEnvironmentFile(existing).ECS_HAND);
  assert.equal(parseEcsInitEnvFile(text).ECS_HAND, parseEcsInitEnvFile(existing).ECS_HAND);
});

test('rewriting is a fixed point: the output rewritten is the output', () => {
  for (const existing of ['', 'X=1', 'ECS_CLUSTER=a\nECS_CLUSTER=b\n\n\n', '# c\r\nECS_LOGLEVEL=debug\r\nY="q"\n']) {
    const once = rewrite(existing, ['Y']);
    assert.equal(rewrite(once, ['Y']), once, JSON.stringify(existing));
  }
});

/** Hand-written lines: the warning is given exactly when the readers would not give the agent one agreed value. */
const HAND_WRITTEN = [
  'ECS_X=plain',
  'ECS_X=a"b\'c',
  'ECS_X=',
  'ECS_X=trailing   ',
  '   ECS_X=leading-space-before-the-key',
  'ECS_X="quoted"',
  "ECS_X='single'",
  'ECS_X= "spaced quote"',
  'ECS_X=back\\slash',
  'ECS_X= lead',
  'ECS_X =spaced',
  'export ECS_X=exported',
];

for (const line of HAND_WRITTEN) {
  test(`hand-written line ${JSON.stringify(line)}: warned exactly when the readers disagree`, () => {
    const systemd = parseSystemdEnvironmentFile(line);
    const ecsInit = parseEcsInitEnvFile(line);
    const agreed = 'ECS_X' in systemd && 'ECS_X' in ecsInit && systemd.ECS_X === ecsInit.ECS_X;
    assert.equal(assignedKey(line), 'ECS_X');
    assert.equal(readersDisagree(line) === null, agreed, readersDisagree(line) ?? 'no warning');
  });
}

test('warnings name the file, line and key of hand-written lines only, never their values', async () => {
  const host = new FakeHost({
    '/etc/ecs/ecs.config': '# mine\nECS_ENGINE_AUTH_DATA="{secret}"\nECS_LOGLEVEL="debug"\nECS_OK=1\n',
    '/var/lib/dpkg/status': dpkgWithSystemd('252.22-1~deb12u1'),
  });
  const warnings = await warningsFor(await contextFor(host, 'ECS_CLUSTER=prod\nECS_LOGLEVEL=info\n'));
  assert.deepEqual(warnings, [
    '/etc/ecs/ecs.config:2: ECS_ENGINE_AUTH_DATA: systemd 252 reads <redacted>, ecs-init reads <redacted>, ' +
      'as the line has a quoted value ' +
      '(systemd strips the quotes, ecs-init keeps them); write it as plain NAME=value, or set it in agent.env',
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseEcsInitEnvFile, parseSystemdEnvironmentFile, readAsSystemd } from '../../../src/concerns/ecs-config/readers.ts';

// The oracles themselves, on the behaviours DESIGN.md §3 names: where the readers differ is
// exactly what the writer must avoid, so the ports must get those differences right.

test('systemd strips wrapping quotes and unescapes inside double quotes; ecs-init keeps them verbatim', () => {
  const text = 'A="x y"\nB=\'q\'\nC="a\\"b\\$c\\d"\n';
  assert.deepEqual(parseSystemdEnvironmentFile(text), { A: 'x y', B: 'q', C: 'a"b$c\\d' });
  assert.deepEqual(parseEcsInitEnvFile(text), { A: '"x y"', B: "'q'", C: '"a\\"b\\$c\\d"' });
});

test('systemd skips # and ; comment lines; ecs-init reads a comment with "=" as a key', () => {
  const text = '# ECS_CLUSTER=old\n; X=1\nECS_CLUSTER=new\n# no equals sign\n';
  assert.deepEqual(parseSystemdEnvironmentFile(text), { ECS_CLUSTER: 'new' });
  assert.deepEqual(parseEcsInitEnvFile(text), { '# ECS_CLUSTER': 'old', '; X': '1', ECS_CLUSTER: 'new' });
});

test('whitespace: systemd trims around key and value; ecs-init trims the line only', () => {
  const text = '  A = one two  \nB=\tlead\n';
  assert.deepEqual(parseSystemdEnvironmentFile(text), { A: 'one two', B: 'lead' });
  assert.deepEqual(parseEcsInitEnvFile(text), { 'A ': ' one two', B: '\tlead' });
});

test('systemd drops a backslash and joins continued lines; ecs-init does neither', () => {
  const text = 'A=x\\y\nB=one\\\ntwo\n';
  assert.deepEqual(parseSystemdEnvironmentFile(text), { A: 'xy', B: 'onetwo' });
  assert.deepEqual(parseEcsInitEnvFile(text), { A: 'x\\y', B: 'one\\' });
});

test('both: first "=" splits, empty values are empty, the last duplicate wins, lines without "=" are skipped', () => {
  const text = 'A=b=c==\nE=\nD=1\nnot an assignment\nD=2';
  const expected = { A: 'b=c==', E: '', D: '2' };
  assert.deepEqual(parseSystemdEnvironmentFile(text), expected);
  assert.deepEqual(parseEcsInitEnvFile(text), expected);
});

test('export is part of the key for both readers, so the agent would never see the variable', () => {
  const reading = readAsSystemd('export A=1\n', 252);
  assert.deepEqual([...reading.variables.keys()], [], 'systemd drops "export A": not a variable name');
  assert.deepEqual(reading.dropped.map((assignment) => assignment.key), ['export A']);
  assert.deepEqual(Object.keys(parseEcsInitEnvFile('export A=1\n')), ['export A']);
});

test('systemd refuses a whole file holding a NUL; ecs-init reads through it', () => {
  const reading = readAsSystemd('A=1\0\nB=2\n', 252);
  assert.deepEqual(reading.refused, { line: 1, what: 'NUL byte' });
  assert.deepEqual(parseSystemdEnvironmentFile('A=1\0\nB=2\n'), {});
  assert.deepEqual(parseEcsInitEnvFile('A=1\0\nB=2\n'), { A: '1\0', B: '2' });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  parseEcsInitEnvFile,
  parseSystemdEnvironmentFile,
  readAsSystemd,
  SYSTEMD_VERSIONS,
} from '../../../src/concerns/ecs-config/readers.ts';

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
  assert.deepEqual(
    reading.dropped.map((assignment) => assignment.key),
    ['export A'],
  );
  assert.deepEqual(Object.keys(parseEcsInitEnvFile('export A=1\n')), ['export A']);
});

test('systemd refuses a whole file holding a NUL; ecs-init reads through it', () => {
  const reading = readAsSystemd('A=1\0\nB=2\n', 252);
  assert.deepEqual(reading.refused, { line: 1, what: 'NUL byte' });
  assert.deepEqual(parseSystemdEnvironmentFile('A=1\0\nB=2\n'), {});
  assert.deepEqual(parseEcsInitEnvFile('A=1\0\nB=2\n'), { A: '1\0', B: '2' });
});

/** The rules that changed between the modelled versions, each at the release that changed it. */
function seenBy(text: string, key: string): Record<number, string | undefined> {
  const seen = SYSTEMD_VERSIONS.map(({ version }) => [version, readAsSystemd(text, version).variables.get(key)]);
  return Object.fromEntries(seen);
}

test('before v254 a comment ending in "\\" continues onto the next line; from v254 it does not', () => {
  assert.deepEqual(seenBy('# note \\\nECS_CLUSTER=prod\n', 'ECS_CLUSTER'), {
    245: undefined,
    246: undefined,
    247: undefined,
    249: undefined,
    252: undefined,
    254: 'prod',
    255: 'prod',
  });
  const crlf = seenBy('# note \\\r\nECS_CLUSTER=prod\n', 'ECS_CLUSTER');
  assert.deepEqual(crlf[252], 'prod', 'a CR after the backslash ends the comment');
  const lines = readAsSystemd('# note \\\nECS_CLUSTER=prod\nB=1\n', 252).lineStarts;
  assert.deepEqual(lines.slice(0, 3), [{ kind: 'own' }, { kind: 'comment', from: 1 }, { kind: 'own' }]);
});

test('from v247 "\\" in double quotes unescapes " \\ ` $ like the shell; before, only "', () => {
  const text = 'A="a\\$b\\\\c\\"d\\xe"\n';
  assert.equal(seenBy(text, 'A')[246], 'a\\$b\\\\c"d\\xe');
  assert.equal(seenBy(text, 'A')[247], 'a$b\\c"d\\xe');
});

test('before v248 a value with a control character other than TAB is dropped; from v248 it is kept', () => {
  const text = 'A=x\u001by\nB=x\ty\n';
  const old = readAsSystemd(text, 247);
  assert.equal(old.variables.has('A'), false);
  assert.deepEqual(
    old.dropped.map(({ key, why }) => [key, why]),
    [['A', 'a control character in the value']],
  );
  assert.equal(old.variables.get('B'), 'x\ty');
  assert.equal(readAsSystemd(text, 248).variables.get('A'), 'x\u001by');
});

test('systemd refuses the whole file for invalid UTF-8 or a noncharacter in a key or value, not in a comment', () => {
  const invalid = '# caf\udd69\nA=1\nB=x\udd7fy\n';
  assert.deepEqual(readAsSystemd(invalid, 252).refused, { line: 3, what: 'invalid UTF-8 byte 0xFF in an assignment' });
  assert.equal(readAsSystemd('# caf\udd69\nA=1\n', 252).variables.get('A'), '1');
  assert.deepEqual(readAsSystemd('A=x\ufffey\n', 252).refused, { line: 1, what: 'U+FFFE in an assignment' });
  assert.equal(parseEcsInitEnvFile(invalid).B, 'x\udd7fy', 'ecs-init passes the bytes on');
});

test('a CR starts a new line for systemd, not for ecs-init', () => {
  const text = 'ECS_X=1\rECS_CLUSTER=evil\nECS_CLUSTER=prod\n';
  const hidden = 'ECS_CLUSTER=prod\nECS_X=1\rECS_CLUSTER=evil\n';
  assert.deepEqual(parseSystemdEnvironmentFile(hidden, 252), { ECS_CLUSTER: 'evil', ECS_X: '1' });
  assert.deepEqual(parseEcsInitEnvFile(text), { ECS_X: '1\rECS_CLUSTER=evil', ECS_CLUSTER: 'prod' });
});

test('an open quote swallows the following lines up to the next quote', () => {
  const reading = readAsSystemd('A="open\nECS_CLUSTER=prod\nB=1\n', 252);
  assert.deepEqual(Object.fromEntries(reading.variables), { A: 'open\nECS_CLUSTER=prod\nB=1\n' });
  const inQuote = { kind: 'double-quote', from: 1 };
  assert.deepEqual(reading.lineStarts.slice(1, 3), [inQuote, inQuote]);
});

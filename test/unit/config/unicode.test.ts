import assert from 'node:assert/strict';
import { test } from 'node:test';

import { readAsEcsInit, readAsSystemd, SYSTEMD_VERSIONS } from '../../../src/concerns/ecs-config/readers.ts';
import { decodeEnvFile, parseStrictEnv } from '../../../src/core/config/env-file.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { decodeLossless, encodeLossless } from '../../../src/core/config/text.ts';

const FILE = '/etc/ecs-host-agent/agent.env';
/** Raw control characters, C1 controls and separators: never printed as they are. */
const RAW_CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\ufeff]/;

function load(fileText: string | null, env: Record<string, string> = {}) {
  return loadConfig({ file: FILE, fileText, env, flags: {} });
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    const failure = error as Error & { exitCode: number };
    assert.equal(failure.exitCode, 78, failure.message);
    assert.doesNotMatch(failure.message, RAW_CONTROL, 'one line, control characters escaped');
    return failure.message;
  }
  assert.fail('not refused');
}

/**
 * Characters at the edges of a value: the union of systemd's whitespace (" \t\n\r") and Go's
 * unicode.IsSpace, which strings.TrimSpace strips in ecs-init. Each is named in the refusal.
 */
const EDGE_SPACES: readonly [string, string][] = [
  [' ', 'a space'],
  ['\t', 'TAB'],
  ['\v', 'VT \\(vertical tab\\)'],
  ['\f', 'FF \\(form feed\\)'],
  ['\u0085', 'U\\+0085 \\(NEXT LINE\\)'],
  ['\u00a0', 'U\\+00A0 \\(NO-BREAK SPACE\\)'],
  ['\u1680', 'U\\+1680'],
  ['\u2000', 'U\\+2000'],
  ['\u200a', 'U\\+200A'],
  ['\u2028', 'U\\+2028 \\(LINE SEPARATOR\\)'],
  ['\u2029', 'U\\+2029 \\(PARAGRAPH SEPARATOR\\)'],
  ['\u202f', 'U\\+202F'],
  ['\u205f', 'U\\+205F'],
  ['\u3000', 'U\\+3000'],
];

for (const [space, name] of EDGE_SPACES) {
  test(`${name.replaceAll('\\', '')} at either edge of a value: refused from agent.env and the environment`, () => {
    for (const [value, where] of [
      [`prod${space}`, 'ends with'],
      [`${space}prod`, 'starts with'],
    ] as const) {
      const fromFile = refusal(() => load(`ECS_LOGLEVEL=${value}\n`));
      assert.match(fromFile, new RegExp(`^${FILE}:1: value of ECS_LOGLEVEL ${where} ${name}`));
      const fromEnv = refusal(() => load(null, { ECS_LOGLEVEL: value }));
      assert.match(fromEnv, new RegExp(`^environment: ECS_LOGLEVEL=.* ${where} ${name}`));
    }
  });
}

test('the edge rule is the union of the readers: each of them would change such a value', () => {
  for (const [space] of EDGE_SPACES) {
    const line = `ECS_X=a${space}`;
    const systemd = readAsSystemd(`${line}\n`, 252).variables.get('ECS_X');
    const ecsInit = readAsEcsInit(`${line}\n`).get('ECS_X');
    assert.ok(systemd !== `a${space}` || ecsInit !== `a${space}`, JSON.stringify(space));
  }
});

test('U+2028, control characters, BOM, U+FFFD inside a value: one rule for agent.env and environment', () => {
  const cases: readonly [string, RegExp][] = [
    ['a\u2028b', /contains U\+2028 \(LINE SEPARATOR\) at character 2/],
    ['a\u2029b', /contains U\+2029 \(PARAGRAPH SEPARATOR\)/],
    ['a\ufeffb', /contains BOM \(U\+FEFF, byte order mark\)/],
    ['a\u001bb', /contains U\+001B at character 2 \(a control character: systemd before v248 drops the variable\)/],
    ['a\u0085b', /contains U\+0085 \(NEXT LINE\)/],
    ['a\u007fb', /contains DEL/],
    ['a\ufffdb', /contains U\+FFFD \(REPLACEMENT CHARACTER/],
    ['a\ufffeb', /contains U\+FFFE at character 2 \(a Unicode noncharacter: systemd refuses it as invalid UTF-8\)/],
  ];
  for (const [value, message] of cases) {
    assert.match(
      refusal(() => load(`ECS_CUSTOM=${value}\n`)),
      new RegExp(`^${FILE}:1: value of ECS_CUSTOM ${message.source}`),
    );
    assert.match(
      refusal(() => load(null, { ECS_CUSTOM: value })),
      new RegExp(`^environment: ECS_CUSTOM=".*" ${message.source}`),
    );
  }
  assert.equal(
    load('ECS_CUSTOM=a\tb c–é\u{1f600}\n').ecsPassThrough.ECS_CUSTOM,
    'a\tb c–é\u{1f600}',
    'inner tabs and printable Unicode are fine',
  );
});

test('invalid UTF-8 in agent.env is refused with its line, column and byte, never replaced', () => {
  const bytes = Uint8Array.from([...Buffer.from('# ok\nECS_CLUSTER=pr'), 0xff, ...Buffer.from('od\n')]);
  assert.throws(
    () => decodeEnvFile(bytes, FILE),
    (error: Error & { exitCode: number }) => {
      assert.equal(error.exitCode, 78);
      assert.equal(error.message, `${FILE}:2: invalid UTF-8 byte 0xFF at column 15: the file must be UTF-8`);
      return true;
    },
  );
  for (const sequence of [
    [0xc0, 0xaf],
    [0xed, 0xa0, 0x80],
    [0xf4, 0x90, 0x80, 0x80],
    [0xe2, 0x82],
  ]) {
    assert.throws(
      () => decodeEnvFile(Uint8Array.from([0x41, 0x3d, ...sequence]), FILE),
      /invalid UTF-8 byte/,
      sequence.join(' '),
    );
  }
  assert.equal(decodeEnvFile(Buffer.from('A=é€\u{1f600}\n'), FILE), 'A=é€\u{1f600}\n');
});

test('lossless decoding: invalid bytes survive a round trip, hand-written lines go back byte for byte', () => {
  const bytes = Uint8Array.from([
    0x23, 0x20, 0xe9, 0x74, 0xe9, 0x0a, 0x41, 0x3d, 0xf0, 0x9f, 0x98, 0x80, 0xc3, 0x0a, 0xed, 0xa0, 0x80,
  ]);
  assert.deepEqual(encodeLossless(decodeLossless(bytes)), bytes);
  assert.equal(
    decodeLossless(Uint8Array.from([0xf0, 0x90, 0x82, 0x80])),
    '\u{10080}',
    'a valid pair whose low half looks like an invalid byte',
  );
});

test('BOM, CR and NUL in agent.env are named, and no hint misleads', () => {
  assert.match(
    refusal(() => parseStrictEnv('\ufeffECS_CLUSTER=prod\n', FILE)),
    /^.*agent\.env:1: the file starts with a BOM \(U\+FEFF, byte order mark\)/,
  );
  assert.match(
    refusal(() => parseStrictEnv('ECS_CLUSTER=prod\r\nLOG_LEVEL=info\r\n', FILE)),
    /agent\.env:1: "ECS_CLUSTER=prod\\r" ends with CR \(carriage return\): the file has Windows line endings; save it/,
  );
  assert.match(
    refusal(() => parseStrictEnv('ECS_CLUSTER=prod\rECS_CLUSTER=evil\n', FILE)),
    /agent\.env:1: .* contains CR \(carriage return\) at character 17: systemd starts a new line there/,
  );
  assert.match(
    refusal(() => parseStrictEnv('# a\0b\n', FILE)),
    /agent\.env:1: "# a\\0b" contains NUL at character 4: systemd refuses the whole file/,
  );
  assert.match(
    refusal(() => parseStrictEnv('ECS_CLUSTER\u2028=prod\n', FILE)),
    /is not KEY=value \(keys are letters, digits and "_", .*: U\+2028 \(LINE SEPARATOR\) is not allowed in a key\)/,
  );
  assert.match(
    refusal(() => parseStrictEnv('\u00a0ECS_CLUSTER=prod\n', FILE)),
    /is not KEY=value \(no leading U\+00A0 \(NO-BREAK SPACE\)\)/,
  );
  assert.match(
    refusal(() => parseStrictEnv('; comment\n', FILE)),
    /systemd reads ";" lines as comments, other readers as keys/,
  );
  assert.match(
    refusal(() => parseStrictEnv('ECS-CLUSTER=prod\n', FILE)),
    /"-" is not allowed in a key/,
  );
});

test('a comment ending in a backslash is refused: systemd before v254 would hide the next line from the unit', () => {
  assert.match(
    refusal(() => parseStrictEnv('# note \\\nLOG_LEVEL=debug\n', FILE)),
    /agent\.env:1: a comment ending in "\\": systemd before v254 .* continues it onto the next line/,
  );
  const hidden = SYSTEMD_VERSIONS.filter(
    ({ version }) => !readAsSystemd('# note \\\nLOG_LEVEL=debug\n', version).variables.has('LOG_LEVEL'),
  );
  assert.deepEqual(
    hidden.map(({ version }) => version),
    [245, 246, 247, 249, 252],
  );
});

test('every agent.env the strict parser accepts, every modelled systemd reads identically', () => {
  const text = [
    '# a comment',
    '',
    '   ',
    'ECS_CLUSTER=prod-1',
    'ECS_INSTANCE_ATTRIBUTES={"team":"a b","x":"y=z"}',
    'ECS_EMPTY=',
    'ECS_INNER=a\tb  c',
    'ECS_QUOTE_INSIDE=a"b\'c$HOME`x`;y',
    'ECS_UNICODE=café – 😀',
    'ECS_EQUALS=a=b==',
  ].join('\n');
  const strict = Object.fromEntries(parseStrictEnv(text, FILE).map((entry) => [entry.key, entry.value]));
  for (const { version } of SYSTEMD_VERSIONS)
    assert.deepEqual(Object.fromEntries(readAsSystemd(text, version).variables), strict, `systemd ${version}`);
});

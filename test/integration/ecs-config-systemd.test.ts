import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { ecsConfigConcern } from '../../src/concerns/ecs-config/index.ts';
import { readAsEcsInit, readAsSystemd } from '../../src/concerns/ecs-config/readers.ts';
import { detectSystemdVersion } from '../../src/concerns/ecs-config/systemd-version.ts';
import { decodeLossless, encodeLossless } from '../../src/core/config/text.ts';
import { planAll } from '../../src/core/runner.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { contextFor, converge, osFacts } from '../support/ecs-config.ts';
import { bootContainer, type Container } from '../support/nspawn.ts';

/**
 * DESIGN.md §3 against the real adversary: a booted Debian 12 container, systemd 252 as PID 1,
 * whose own EnvironmentFile= parser reads every file. For each hand-written layout the reader
 * model (readers.ts, systemd 252 rules) must predict exactly what systemd passes to a unit; for
 * each file the agent writes (with --root on the container's root) systemd must read every
 * managed key as configured, as the ecs-init model does, or the agent must have refused and
 * changed nothing. One container for the whole file.
 */
const VERSION = 252;
const ECS_CONFIG = '/etc/ecs/ecs.config';

/** What a unit with EnvironmentFile=-FILE gets, byte for byte (base64 inside, so no decoding loses anything). */
function systemdReads(
  container: Container,
  file: string,
): { status: number; variables: Map<string, string>; stderr: string } {
  const script = 'env -0 | base64 -w0';
  const result = container.exec([
    'systemd-run',
    '--wait',
    '--pipe',
    '--quiet',
    '-p',
    `EnvironmentFile=-${file}`,
    'sh',
    '-c',
    script,
  ]);
  const variables = new Map<string, string>();
  for (const entry of decodeLossless(Buffer.from(result.stdout, 'base64')).split('\0')) {
    const equals = entry.indexOf('=');
    if (equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  for (const perInvocation of ['INVOCATION_ID', 'SYSTEMD_EXEC_PID']) variables.delete(perInvocation);
  return { status: result.status, variables, stderr: result.stderr };
}

/** The model's prediction: what the manager sets anyway (the baseline), overridden by what the file sets. */
function predicted(baseline: ReadonlyMap<string, string>, text: string): Map<string, string> {
  return new Map([...baseline, ...readAsSystemd(text, VERSION).variables]);
}

function sorted(variables: ReadonlyMap<string, string>): [string, string][] {
  return [...variables].sort(([a], [b]) => (a < b ? -1 : 1));
}

interface World {
  readonly container: Container;
  readonly baseline: ReadonlyMap<string, string>;
}

let caseNumber = 0;

/** Writes the bytes into the container, then holds the model against systemd 252's own reading of them. */
function assertModelAgrees(world: World, text: string, file = `/srv/case-${++caseNumber}.env`): Map<string, string> {
  mkdirSync(`${world.container.root}/srv`, { recursive: true });
  writeFileSync(`${world.container.root}${file}`, encodeLossless(text));
  const real = systemdReads(world.container, file);
  assert.equal(real.status, 0, real.stderr);
  assert.deepEqual(
    sorted(real.variables),
    sorted(predicted(world.baseline, text)),
    `systemd 252 and the model, on ${JSON.stringify(text)}`,
  );
  return real.variables;
}

/** Hand-written layouts: the model must predict systemd 252 exactly. */
const LAYOUTS: readonly [string, string][] = [
  ['a comment ending in "\\" swallows the next line', 'A=1\n# note \\\nB=2\nC=3\n'],
  ['a comment ending in "\\" then CRLF does not', '# note \\\r\nB=2\n'],
  ['a CR inside a line starts a new one', 'ECS_CLUSTER=prod\nX=1\rECS_CLUSTER=evil\n'],
  ['a CRLF file', 'A=1\r\nB=two words\r\n\r\n# c\r\n'],
  ['a NUL anywhere: the whole file is refused', 'A=1\n# x\0y\nB=2\n'],
  ['a NUL in a value', 'A=1\nB=x\0y\n'],
  ['invalid UTF-8 in a value: the whole file is refused', 'A=1\nB=caf\udd69\n'],
  ['invalid UTF-8 in a comment is harmless', '# caf\udd69\nA=1\n'],
  ['a noncharacter in a value: refused as invalid UTF-8', 'A=1\nB=x\ufffey\n'],
  ['a value ending in "\\" joins the next line', 'A=one\\\nB=2\nC=3\n'],
  ['an escaped newline inside a value, and a backslash before a space', 'A=x\\ y\nB=p\\\nq\n'],
  ['an open double quote runs to the next quote', 'A="open\nB=2\nC="3\nD=4\n'],
  ['an open single quote runs to the end of the file', "A=1\nB='open\nC=3\n"],
  ['shell escapes in double quotes (v247 rules)', 'A="a\\$b\\\\c\\"d\\xe\\`f"\nB="line\\\ncontinued"\n'],
  ['quotes in the middle, adjacent quoted parts', 'A=x"y"z\nB="a"\'b\'c\nC= "spaced" \n'],
  ['export and spaces around "=": not variable names, dropped', 'export A=1\nB = 2\n  C=3\nD\t=\t4 \n'],
  ['";" and "#" comments, a key without "="', '; c=1\n# d=2\nJUSTAKEY\nE=5\n'],
  ['duplicates: the last wins', 'A=1\nA=2\nA=\n'],
  ['a BOM at the start makes the first key invalid', '\ufeffA=1\nB=2\n'],
  ['Unicode spaces are not systemd whitespace', 'A=x\u0085\nB=\u00a0y\nC=\u2028z\u2028\nD=\u3000\n'],
  ['control characters inside values (kept since v248)', 'A=x\u001by\nB=a\u0007b\nC=t\u000bv\n'],
  ['JSON, "=" and "$" unquoted', 'ECS_ENGINE_AUTH_DATA={"r":{"auth":"dXNlcjpwYXNz=="}}\nA=$HOME`id`\nB=a=b==c\n'],
  ['a value of exactly 131,071 bytes with its key', `A=${'x'.repeat(131_069)}\n`],
];

/** A file the agent writes over: the hand-written layout, and whether a placement exists for the managed keys. */
interface AgentCase {
  readonly what: string;
  readonly existing: string;
  readonly agentEnv: string;
  readonly managed: Record<string, string>;
  /** null: written; otherwise what the refusal must name. */
  readonly refused: RegExp | null;
}

const MANAGED = { ECS_CLUSTER: 'prod', ECS_LOGLEVEL: 'warn' };
const AGENT_ENV = 'ECS_CLUSTER=prod\nECS_LOGLEVEL=warn\n';

const AGENT_CASES: readonly AgentCase[] = [
  {
    what: 'a comment ending in "\\" before the managed line',
    existing: '# note \\\nECS_CLUSTER=old\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a comment ending in "\\" last in the file',
    existing: 'ECS_CLUSTER=old\n# note \\',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a value ending in "\\" before the managed line',
    existing: 'ECS_HAND=x\\\nECS_CLUSTER=old\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a CR-hidden ECS_CLUSTER=evil after the managed line',
    existing: 'ECS_CLUSTER=old\nX=1\rECS_CLUSTER=evil\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'an open double quote at the end',
    existing: 'ECS_CLUSTER=old\nECS_HAND="open\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'an open single quote in the middle',
    existing: "# top\nECS_HAND='open\nECS_CLUSTER=old\n",
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a CR-hidden assignment then an open quote on one line: no placement',
    existing: 'ECS_CLUSTER=old\nX=1\rECS_CLUSTER=evil\rECS_OPEN="x\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: /ECS_CLUSTER would not be read as written: systemd 252 reads "evil", ecs-init reads "prod"/,
  },
  {
    what: 'a NUL in a comment',
    existing: '# x\0y\nECS_CLUSTER=old\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: /ecs\.config:1: NUL byte: systemd 252 refuses the whole file/,
  },
  {
    what: 'invalid UTF-8 in a hand-written value',
    existing: 'ECS_HAND=caf\udd69\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: /invalid UTF-8 byte 0xE9 in an assignment/,
  },
  {
    what: 'invalid UTF-8 in a comment, kept byte for byte',
    existing: '# caf\udd69\nECS_CLUSTER=old\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a BOM before the managed key',
    existing: '\ufeffECS_CLUSTER=old\nECS_HAND=1\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'a CRLF file',
    existing: 'ECS_CLUSTER=old\r\nECS_HAND=1\r\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  {
    what: 'every other hand-written form (export, quotes, spaces, ";" comments)',
    existing: 'export ECS_CLUSTER="old"\nECS_HAND = "x y"\n; comment\n\tECS_LOGLEVEL=debug\n',
    agentEnv: AGENT_ENV,
    managed: MANAGED,
    refused: null,
  },
  ...[
    [
      'JSON with spaces, compacted',
      'ECS_INSTANCE_ATTRIBUTES={"stack": "prod", "team": "web ops"}',
      '{"stack":"prod","team":"web ops"}',
    ],
    [
      '"=" inside JSON in credentials',
      'ECS_ENGINE_AUTH_DATA={"https://r.example.test":{"auth":"dXNlcjpwYXNz=="}}',
      null,
    ],
    ['a URL with port, query and ";"', 'ECS_CUSTOM_URL=https://ecs.example.test:8443/v1?x=1&y=2;z', null],
    ['quotes inside, not wrapping', 'ECS_CUSTOM_QUOTES=it\'s "fine"', null],
    ['"$" and backticks', 'ECS_CUSTOM_SHELL=$HOME`id`${X}', null],
    ['";" first', 'ECS_CUSTOM_SEMI=;not-a-comment', null],
    ['inner spaces and a tab', 'ECS_CUSTOM_SPACES=a  b\tc', null],
    ['non-ASCII and emoji', 'ECS_CUSTOM_UNICODE=café – Ü 😀', null],
    ['an empty value', 'ECS_CUSTOM_EMPTY=', null],
    ['exactly 131,071 bytes', `ECS_CUSTOM_BIG=${'b'.repeat(131_071 - 'ECS_CUSTOM_BIG='.length)}`, null],
  ].map(([what, line, written]) => {
    const [key, value] = [
      (line as string).slice(0, (line as string).indexOf('=')),
      (line as string).slice((line as string).indexOf('=') + 1),
    ];
    return {
      what: `a tricky value: ${what}`,
      existing: '# kept\nECS_CLUSTER=old\nECS_HAND=by hand\n',
      agentEnv: `ECS_CLUSTER=prod\n${line}\n`,
      managed: { ECS_CLUSTER: 'prod', [key]: written ?? value },
      refused: null,
    };
  }),
];

async function agentWrites(t: TestContext, world: World, row: AgentCase): Promise<void> {
  const root = world.container.root;
  rmSync(`${root}/var/lib/ecs-host-agent`, { recursive: true, force: true });
  mkdirSync(`${root}/etc/ecs`, { recursive: true });
  writeFileSync(`${root}${ECS_CONFIG}`, encodeLossless(row.existing));
  const context = await contextFor(new RealHost(root), row.agentEnv);
  const [plan] = await planAll([ecsConfigConcern], context);
  if (row.refused !== null) {
    assert.equal(plan?.exitCode, 78, plan?.error ?? 'planned');
    assert.match(plan?.error ?? '', row.refused);
    await assert.rejects(converge(context));
    assert.deepEqual(
      readFileSync(`${root}${ECS_CONFIG}`),
      Buffer.from(encodeLossless(row.existing)),
      'nothing is changed',
    );
    assertModelAgrees(world, row.existing, ECS_CONFIG);
    return;
  }
  assert.equal(plan?.error, undefined, plan?.error);
  await converge(context);
  const text = decodeLossless(readFileSync(`${root}${ECS_CONFIG}`));
  const real = assertModelAgrees(world, text, ECS_CONFIG);
  const ecsInit = readAsEcsInit(text);
  for (const [key, value] of Object.entries(row.managed)) {
    assert.equal(real.get(key), value, `systemd 252 reads ${key} as configured in ${JSON.stringify(text)}`);
    assert.equal(ecsInit.get(key), value, `ecs-init reads ${key} as configured`);
  }
  const [again] = await planAll([ecsConfigConcern], context);
  assert.deepEqual(again?.actions, [], `${t.name}: a second plan is empty`);
}

test('ecs.config through systemd 252 itself: the model agrees on every layout, agent files read alike', async (t) => {
  const container = await bootContainer(t);
  assert.match(container.run(['systemctl', '--version']), /^systemd 252 /);
  const detected = await detectSystemdVersion(new RealHost(container.root), await osFacts());
  assert.equal(
    detected.version,
    VERSION,
    `the agent reads the version from the root's dpkg database: ${detected.evidence}`,
  );

  mkdirSync(`${container.root}/srv`, { recursive: true });
  writeFileSync(`${container.root}/srv/empty.env`, '');
  const world: World = { container, baseline: systemdReads(container, '/srv/empty.env').variables };
  assert.ok(world.baseline.has('PATH'), 'the manager sets PATH for every unit');

  for (const [what, text] of LAYOUTS)
    await t.test(`hand-written layout: ${what}`, () => void assertModelAgrees(world, text));

  await t.test('one byte over MAX_ARG_STRLEN: systemd cannot start the unit at all (the reason for the limit)', () => {
    writeFileSync(`${container.root}/srv/too-long.env`, `A=${'x'.repeat(131_070)}\n`);
    const result = systemdReads(container, '/srv/too-long.env');
    assert.equal(result.status, 203, `systemd-run passes on the unit's status, 203/EXEC: ${result.stderr}`);
  });

  for (const row of AGENT_CASES) await t.test(`agent writes over: ${row.what}`, (sub) => agentWrites(sub, world, row));
});

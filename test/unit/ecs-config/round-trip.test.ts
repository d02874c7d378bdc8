import assert from 'node:assert/strict';
import { test } from 'node:test';

import dotenv from 'dotenv';

import { contextFor, converge } from '../../support/ecs-config.ts';
import { parseEcsInitEnvFile, parseSystemdEnvironmentFile } from '../../../src/concerns/ecs-config/readers.ts';
import { FakeHost } from '../../support/fake-host.ts';

/**
 * DESIGN.md §3: the value the operator configures is the value every reader of
 * /etc/ecs/ecs.config gets. Each row is set in agent.env, the agent writes the
 * file over a hand-kept one, and systemd's and ecs-init's parsers (and dotenv,
 * which reads the same strict format) must each yield exactly the configured values.
 */
interface Row {
  readonly what: string;
  readonly key: string;
  readonly value: string;
  /** What the agent writes when it is not the value as given (JSON is re-serialised compact). */
  readonly written?: string;
}

const TRICKY: readonly Row[] = [
  {
    what: 'JSON with spaces',
    key: 'ECS_INSTANCE_ATTRIBUTES',
    value: '{"stack": "prod", "team": "web ops"}',
    written: '{"stack":"prod","team":"web ops"}',
  },
  {
    what: 'JSON array with spaces',
    key: 'ECS_AVAILABLE_LOGGING_DRIVERS',
    value: '["json-file", "awslogs"]',
    written: '["json-file","awslogs"]',
  },
  {
    what: '"=" inside JSON (base64 padding) in credentials',
    key: 'ECS_ENGINE_AUTH_DATA',
    value: '{"https://registry.example.test/v2/": {"auth": "dXNlcjpwYXNz==", "email": "ops@example.test"}}',
    written: '{"https://registry.example.test/v2/":{"auth":"dXNlcjpwYXNz==","email":"ops@example.test"}}',
  },
  { what: '"=" inside a plain value', key: 'ECS_CUSTOM_EQUATION', value: 'a=b==c' },
  {
    what: 'URL with port, query and ";"',
    key: 'ECS_CUSTOM_ENDPOINT',
    value: 'https://ecs.example.test:8443/v1?x=1&y=2;z',
  },
  { what: 'empty value', key: 'ECS_CUSTOM_EMPTY', value: '' },
  { what: 'quotes inside, not wrapping', key: 'ECS_CUSTOM_QUOTES', value: 'it\'s "fine"' },
  { what: '"$" and backticks, never expanded', key: 'ECS_CUSTOM_SHELL', value: '$HOME`id`${X}' },
  { what: '";" first, a comment only at the start of a line', key: 'ECS_CUSTOM_SEMICOLON', value: ';not-a-comment' },
  { what: 'inner spaces', key: 'ECS_CUSTOM_SPACES', value: 'a  b c' },
  { what: 'non-ASCII', key: 'ECS_CUSTOM_UNICODE', value: 'café – Ü' },
  { what: 'Go duration', key: 'ECS_CONTAINER_STOP_TIMEOUT', value: '1h30m' },
  { what: 'a key that is also hand-written, twice', key: 'ECS_LOGLEVEL', value: 'warn' },
];

/**
 * Kept by hand: comments (no "=", so ecs-init skips them too), a hand-written key set twice, managed keys set twice.
 */
const HAND_KEPT = [
  '# operator notes, kept in place',
  '; a comment in systemd style',
  'ECS_CLUSTER=stale',
  'ECS_LOGLEVEL=debug',
  'ECS_CUSTOM_HAND=by hand',
  'ECS_CUSTOM_HAND=by hand, last',
  'ECS_LOGLEVEL=error',
  'ECS_CLUSTER=stale-again',
  '',
].join('\n');

async function writtenFile(agentEnv: string): Promise<string> {
  const host = new FakeHost({ '/etc/ecs/ecs.config': HAND_KEPT });
  await converge(await contextFor(host, agentEnv));
  return host.text('/etc/ecs/ecs.config') as string;
}

function assertEveryReaderGets(text: string, expected: Record<string, string>): void {
  assert.deepEqual(parseSystemdEnvironmentFile(text), expected, 'systemd EnvironmentFile=');
  assert.deepEqual(parseEcsInitEnvFile(text), expected, 'ecs-init getEnvVars');
  assert.deepEqual({ ...dotenv.parse(text) }, expected, 'dotenv');
}

for (const row of TRICKY) {
  test(`round trip through systemd, ecs-init and dotenv: ${row.what}`, async () => {
    const agentEnv = `ECS_CLUSTER=prod\n${row.key}=${row.value}\n`;
    assertEveryReaderGets(agentEnv, { ECS_CLUSTER: 'prod', [row.key]: row.value });
    assertEveryReaderGets(await writtenFile(agentEnv), {
      ECS_CLUSTER: 'prod',
      ECS_LOGLEVEL: 'error',
      ECS_CUSTOM_HAND: 'by hand, last',
      [row.key]: row.written ?? row.value,
    });
  });
}

test('all tricky values at once: one file every reader reads identically', async () => {
  const agentEnv = ['ECS_CLUSTER=prod', ...TRICKY.map((row) => `${row.key}=${row.value}`), ''].join('\n');
  const text = await writtenFile(agentEnv);
  const expected = Object.fromEntries([
    ['ECS_CLUSTER', 'prod'],
    ['ECS_CUSTOM_HAND', 'by hand, last'],
    ...TRICKY.map((row) => [row.key, row.written ?? row.value]),
  ]);
  assertEveryReaderGets(text, expected);
  assert.ok(
    text.startsWith(
      '# operator notes, kept in place\n; a comment in systemd ' +
        'style\nECS_CLUSTER=prod\nECS_LOGLEVEL=warn\nECS_CUSTOM_HAND=by hand, last\n',
    ),
  );
});

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadConfig } from '../../../src/core/config/load.ts';
import { MAX_FILE_ENVIRONMENT_BYTES, MAX_VARIABLE_BYTES } from '../../../src/core/config/limits.ts';

const FILE = '/etc/ecs-host-agent/agent.env';

function load(fileText: string | null, env: Record<string, string> = {}) {
  return loadConfig({ file: FILE, fileText, env, flags: {} });
}

/** KEY=value of exactly `bytes` bytes, the value made of `unit` (1 to 4 bytes each) and ASCII padding. */
function variableOf(key: string, bytes: number, unit = 'a'): string {
  const room = bytes - key.length - 1;
  const units = Math.floor(room / Buffer.byteLength(unit));
  return `${key}=${unit.repeat(units)}${'a'.repeat(room - units * Buffer.byteLength(unit))}`;
}

function assertRefused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: Error & { exitCode: number }) => {
    assert.equal(error.exitCode, 78);
    assert.match(error.message, message);
    return true;
  });
}

test('the numbers: MAX_ARG_STRLEN less its NUL, and half of the 2 MiB execve takes with the default stack', () => {
  assert.equal(MAX_VARIABLE_BYTES, 32 * 4096 - 1);
  assert.equal(MAX_FILE_ENVIRONMENT_BYTES, (2 * 1024 * 1024) / 2);
});

for (const [what, unit] of [
  ['ASCII', 'a'],
  ['two-byte é', 'é'],
  ['four-byte emoji', '\u{1f600}'],
] as const) {
  test(`one KEY=value of exactly 131,071 bytes (${what}) is accepted, one byte more refused, named`, () => {
    const fits = variableOf('ECS_CUSTOM_BIG', MAX_VARIABLE_BYTES, unit);
    assert.equal(Buffer.byteLength(fits), MAX_VARIABLE_BYTES);
    assert.equal(load(`${fits}\n`).ecsPassThrough.ECS_CUSTOM_BIG?.length, fits.length - 'ECS_CUSTOM_BIG='.length);
    const over = variableOf('ECS_CUSTOM_BIG', MAX_VARIABLE_BYTES + 1, unit);
    assertRefused(
      () => load(`${over}\n`),
      new RegExp(
        '^/etc/ecs-host-agent/agent\\.env:1: value of ECS_CUSTOM_BIG is too long: ' +
          'ECS_CUSTOM_BIG=value is 131,072 bytes, ' +
          "over Linux's limit of 131,071 bytes for one environment variable \\(MAX_ARG_STRLEN\\)",
      ),
    );
    const value = over.slice('ECS_CUSTOM_BIG='.length);
    assertRefused(
      () => load(null, { ECS_CUSTOM_BIG: value }),
      /^environment: ECS_CUSTOM_BIG="[^"\\]+…" \(131,057 bytes\) is too long: .* 131,072 bytes, over/,
    );
  });
}

/** Variables whose execve cost (KEY=value, NUL, pointer) adds up to exactly `total` bytes, ECS_CLUSTER among them. */
function filling(total: number): string[] {
  const cost = (line: string) => Buffer.byteLength(line) + 1 + 8;
  const lines = ['ECS_CLUSTER=prod'];
  let left = total - cost(lines[0] as string);
  for (let index = 0; left > 0; index++) {
    const key = `ECS_FILL_${index}`;
    const size = Math.min(100_000, left - 9);
    lines.push(variableOf(key, size < key.length + 1 ? key.length + 1 : size));
    left -= cost(lines.at(-1) as string);
  }
  assert.equal(
    lines.reduce((sum, line) => sum + cost(line), 0),
    total,
    'the filling is exact',
  );
  return lines;
}

test('agent.env whose variables take exactly 1 MiB of execve is accepted; one byte more is refused', () => {
  load(`${filling(MAX_FILE_ENVIRONMENT_BYTES).join('\n')}\n`);
  const over = filling(MAX_FILE_ENVIRONMENT_BYTES + 1);
  assertRefused(
    () => load(`${over.join('\n')}\n`),
    new RegExp(
      '^/etc/ecs-host-agent/agent\\.env: the variables of /etc/ecs-host-agent/agent\\.env take 1,048,577 bytes of ' +
        "the environment \\(each counted with its NUL and pointer\\), over the agent's limit of 1,048,576 bytes",
    ),
  );
});

test('the ECS_* keys for /etc/ecs/ecs.config are held to the same limit wherever they come from', () => {
  const lines = filling(MAX_FILE_ENVIRONMENT_BYTES + 1);
  const env = Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  assertRefused(
    () => load(null, env),
    /^ECS_\* keys from agent\.env, the environment and flags: the variables of \/etc\/ecs\/ecs\.config take 1,048,577/,
  );
  const fits = filling(MAX_FILE_ENVIRONMENT_BYTES);
  load(
    null,
    Object.fromEntries(fits.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)])),
  );
});

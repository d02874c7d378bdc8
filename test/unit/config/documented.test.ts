import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { KEYS } from '../../../src/core/config/keys.ts';
import { COMMANDS } from '../../../src/cli/main.ts';
import { REPO } from '../../support/paths.ts';

const readme = readFileSync(`${REPO}README.md`, 'utf8');

test('every configuration key is documented in the README', () => {
  assert.deepEqual(
    Object.keys(KEYS).filter((key) => !readme.includes(`\`${key}\``)),
    [],
  );
});

test('every command is documented in the README', () => {
  assert.deepEqual(
    COMMANDS.map((command) => command.name).filter((name) => !readme.includes(`ecs-host-agent ${name}`)),
    [],
  );
});
